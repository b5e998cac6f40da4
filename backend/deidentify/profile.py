"""DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile, with the Retain
Longitudinal Temporal Information with Modified Dates option (dates shifted, not removed).

Main actions applied (Table E.1-1): X remove, Z empty, D replace with a dummy value, U replace
the UID by a consistent one. Every element is visited, sequences included:

* every UID (VR UI) that is not a registered DICOM UID (SOP classes, transfer syntaxes, coding
  schemes) is replaced through the server's mapping (the same original, the same replacement);
* every date (DA) and date-time (DT) is shifted by the patient's offset (PatientBirthDate is
  emptied as the profile says);
* person names: the patient's becomes the pseudonym, every other one is removed or emptied;
* the attributes of the profile's table below are removed or emptied;
* private elements, overlay data and comments (60xx,3000/4000) are removed.

Not done: burned-in text in the pixels (BurnedInAnnotation is kept as the modality wrote it;
bone scans carry none) and free text in attributes outside the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydicom.dataset import Dataset
from pydicom.uid import UID_dictionary

# Attributes of Table E.1-1 with action X (remove); a type 1/2 attribute among them is emptied
# instead when the IOD needs it (see EMPTY).
REMOVE = {
    "AcquisitionComments", "AcquisitionDeviceProcessingDescription", "AcquisitionProtocolDescription",
    "ActualHumanPerformersSequence", "AdditionalPatientHistory", "AdmissionID",
    "AdmittingDiagnosesCodeSequence", "AdmittingDiagnosesDescription", "Allergies", "Arbitrary",
    "AuthorObserverSequence", "BranchOfService", "CommentsOnThePerformedProcedureStep",
    "ConfidentialityConstraintOnPatientDataDescription", "ContributionDescription",
    "CountryOfResidence", "CurrentPatientLocation", "CustodialOrganizationSequence",
    "DataSetTrailingPadding", "DerivationDescription", "DetectorID", "DeviceSerialNumber",
    "DeviceUID", "DigitalSignaturesSequence", "DischargeDiagnosisDescription",
    "DistributionAddress", "DistributionName", "EthnicGroup", "FrameComments",
    "GantryID", "GeneratorID", "HumanPerformerName", "HumanPerformerOrganization",
    "IconImageSequence", "IdentifyingComments", "ImageComments", "ImagePresentationComments",
    "ImagingServiceRequestComments", "Impressions", "InstitutionAddress",
    "InstitutionCodeSequence", "InstitutionName", "InstitutionalDepartmentName",
    "InsurancePlanIdentification", "IntendedRecipientsOfResultsIdentificationSequence",
    "InterpretationApproverSequence", "InterpretationAuthor", "InterpretationDiagnosisDescription",
    "InterpretationIDIssuer", "InterpretationRecorder", "InterpretationText",
    "InterpretationTranscriber", "IssuerOfAdmissionID", "IssuerOfPatientID",
    "IssuerOfServiceEpisodeID", "MedicalAlerts", "MedicalRecordLocator", "MilitaryRank",
    "ModifiedAttributesSequence", "ModifyingDeviceID", "ModifyingDeviceManufacturer",
    "NameOfPhysiciansReadingStudy", "NamesOfIntendedRecipientsOfResults", "Occupation",
    "OperatorIdentificationSequence", "OperatorsName", "OriginalAttributesSequence",
    "OrderCallbackPhoneNumber", "OrderEnteredBy", "OrderEntererLocation",
    "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames",
    "ParticipantSequence", "PatientAddress", "PatientAge", "PatientBirthName", "PatientBirthTime",
    "PatientComments", "PatientInstitutionResidence", "PatientInsurancePlanCodeSequence",
    "PatientMotherBirthName", "PatientPrimaryLanguageCodeSequence",
    "PatientPrimaryLanguageModifierCodeSequence", "PatientReligiousPreference", "PatientSize",
    "PatientState", "PatientTelecomInformation", "PatientTelephoneNumbers",
    "PatientTransportArrangements", "PatientWeight", "PerformedLocation",
    "PerformedProcedureStepDescription", "PerformedProcedureStepID",
    "PerformingPhysicianIdentificationSequence", "PerformingPhysicianName", "PersonAddress",
    "PersonIdentificationCodeSequence", "PersonName", "PersonTelephoneNumbers",
    "PhysicianApprovingInterpretation", "PhysiciansOfRecord",
    "PhysiciansOfRecordIdentificationSequence", "PhysiciansReadingStudyIdentificationSequence",
    "PlateID", "PreMedication", "PregnancyStatus", "ProtocolName",
    "ReasonForTheImagingServiceRequest", "ReasonForStudy", "ReferencedDigitalSignatureSequence",
    "ReferencedPatientAliasSequence", "ReferencedPatientPhotoSequence",
    "ReferencedPatientSequence", "ReferencedSOPInstanceMACSequence", "ReferencedStudySequence",
    "ReferringPhysicianAddress", "ReferringPhysicianIdentificationSequence",
    "ReferringPhysicianTelephoneNumbers", "RegionOfResidence", "RequestAttributesSequence",
    "RequestedContrastAgent", "RequestedProcedureComments", "RequestedProcedureDescription",
    "RequestedProcedureID", "RequestedProcedureLocation", "RequestingPhysician",
    "RequestingService", "ResponsibleOrganization", "ResponsiblePerson", "ResultsComments",
    "ResultsDistributionListSequence", "ResultsIDIssuer", "ScheduledHumanPerformersSequence",
    "ScheduledPatientInstitutionResidence", "ScheduledPerformingPhysicianIdentificationSequence",
    "ScheduledPerformingPhysicianName", "ScheduledProcedureStepDescription",
    "ScheduledProcedureStepLocation", "ScheduledStationName", "SeriesDescription",
    "ServiceEpisodeDescription", "ServiceEpisodeID", "SmokingStatus", "SpecialNeeds",
    "StationName", "StudyComments", "StudyDescription", "TextComments", "TextString",
    "TopicAuthor", "TopicKeywords", "TopicSubject", "TopicTitle", "VerifyingObserverName",
    "VerifyingObserverSequence", "VerifyingOrganization", "VisitComments",
}  # fmt: skip
# Action Z (or D where Z is allowed): present but empty.
EMPTY = {
    "AccessionNumber", "ContentCreatorName", "PatientBirthDate", "PatientSex",
    "ReferringPhysicianName", "StudyID", "FillerOrderNumberImagingServiceRequest",
    "PlacerOrderNumberImagingServiceRequest", "VerifyingObserverIdentificationCodeSequence",
}  # fmt: skip
# Never remapped: the registered UIDs and the few instance-independent ones.
KEEP_UIDS = {"SOPClassUID", "MediaStorageSOPClassUID", "TransferSyntaxUID",
             "ImplementationClassUID", "ReferencedSOPClassUID", "ReferencedSOPClassUIDInFile",
             "CodingSchemeUID", "SpecimenUID"}  # fmt: skip

# DeidentificationMethod is LO (at most 64 characters per value), multi-valued: one value per
# part; the code sequence below says the same in codes.
METHOD_VALUES = (
    "DICOM PS3.15 Basic Application Level Confidentiality Profile",
    "Retain Longitudinal Temporal Info with Modified Dates Option",
    "BoneRead",
)
METHOD = "; ".join(METHOD_VALUES)


def _shift_da(value: str, days: int) -> str:
    try:
        return (dt.datetime.strptime(value.strip()[:8], "%Y%m%d") + dt.timedelta(days)).strftime(
            "%Y%m%d"
        )
    except ValueError:
        return ""  # not a date we can shift: remove what it said


def _shift_dt(value: str, days: int) -> str:
    value = value.strip()
    if len(value) < 8:
        return ""
    shifted = _shift_da(value[:8], days)
    return shifted + value[8:] if shifted else ""


def _shift_multi(value, days: int, shift: Callable[[str, int], str]):
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return [shift(str(v), days) for v in value]
    return shift(str(value), days) if value not in (None, "") else value


def deidentify_dataset(
    ds: Dataset,
    *,
    uid_map: Callable[[str], str],
    date_offset_days: int,
    pseudonym: str,
) -> Dataset:
    """De-identify ``ds`` in place (and return it).

    Args:
        uid_map: original UID -> replacement UID (consistent; the server's mapping table).
        date_offset_days: the patient's date shift.
        pseudonym: the patient's pseudonym (PatientName and PatientID).
    """
    ds.remove_private_tags()
    _walk(ds, uid_map=uid_map, days=date_offset_days, top=True)
    ds.PatientName = pseudonym
    ds.PatientID = pseudonym
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = list(METHOD_VALUES)
    code_basic, code_dates = Dataset(), Dataset()
    code_basic.CodeValue, code_basic.CodingSchemeDesignator = "113100", "DCM"
    code_basic.CodeMeaning = "Basic Application Confidentiality Profile"
    code_dates.CodeValue, code_dates.CodingSchemeDesignator = "113107", "DCM"
    code_dates.CodeMeaning = "Retain Longitudinal Temporal Information Modified Dates Option"
    ds.DeidentificationMethodCodeSequence = [code_basic, code_dates]
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def _walk(ds: Dataset, *, uid_map: Callable[[str], str], days: int, top: bool) -> None:
    for element in list(ds):
        tag = element.tag
        keyword = element.keyword
        if 0x6000 <= tag.group <= 0x60FF and tag.element in (0x3000, 0x4000):
            del ds[tag]  # overlay data and comments
            continue
        if keyword in REMOVE:
            del ds[tag]
            continue
        if keyword in EMPTY:
            element.value = [] if element.VR == "SQ" else ""
            continue
        if element.VR == "SQ":
            for item in element.value or []:
                _walk(item, uid_map=uid_map, days=days, top=False)
        elif element.VR == "UI" and keyword not in KEEP_UIDS and element.value:
            values = element.value if element.VM > 1 else [element.value]
            mapped = [v if str(v) in UID_dictionary else uid_map(str(v)) for v in values]
            element.value = mapped if element.VM > 1 else mapped[0]
        elif element.VR == "DA":
            element.value = _shift_multi(element.value, days, _shift_da)
        elif element.VR == "DT":
            element.value = _shift_multi(element.value, days, _shift_dt)
        elif element.VR == "PN" and keyword != "PatientName":
            del ds[tag]  # other people's names (Z/X in the table): not exported
