"""MT-UNet, its text path and the baseline registry."""

from __future__ import annotations

import pytest
import torch
from transformers import BertConfig, BertModel

from boneread_ml.models import MODEL_NAMES, MTUNet, ReportEncoder, build_model
from boneread_ml.models.fusion import coordinate_features
from boneread_ml.models.tokenizer import (
    SPECIAL_TOKENS,
    build_tokenizer,
    build_vocab,
    load_tokenizer,
)

REPORT_A = "病史：乳腺癌术后。所见：第5胸椎、右侧第6肋见放射性浓聚。诊断意见：多发骨转移。"
REPORT_B = "病史：腰痛。所见：双膝关节见放射性增高。诊断意见：退行性变。"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return build_tokenizer(tmp_path_factory.mktemp("tok"), model_max_length=64)


def tiny_mt_unet(
    vocab_size: int, spatial_dims: int = 2, gate_init: float = 0.5, **kwargs
) -> MTUNet:
    torch.manual_seed(0)
    encoder = ReportEncoder.small(vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    return MTUNet(
        spatial_dims,
        2,
        3,
        features=(8, 8, 16, 16, 32, 8),
        text_encoder=encoder,
        gate_init=gate_init,
        **kwargs,
    )


def encode(tokenizer, texts):
    enc = tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def test_vocabulary_is_character_level_gb2312(tokenizer):
    vocab = build_vocab()
    assert vocab[:5] == list(SPECIAL_TOKENS)
    assert {"骨", "转", "移", "肋", "椎", "5", "##5", "t"} <= set(vocab)
    assert len(vocab) == len(set(vocab)) > 7000
    tokens = tokenizer.tokenize("第5胸椎骨转移")
    assert tokens == ["第", "5", "胸", "椎", "骨", "转", "移"]
    assert tokenizer.unk_token_id not in tokenizer("右侧第12肋 SPECT/CT")["input_ids"]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_returns_logits_of_input_shape(name, tokenizer):
    model = build_model(name, input_size=(64, 64), input_scale=1.0, vocab_size=len(tokenizer),
                        text={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                              "intermediate_size": 64})  # fmt: skip
    ids, mask = encode(tokenizer, [REPORT_A, REPORT_B])
    out = model(torch.randn(2, 2, 64, 64), ids, mask)
    assert out.shape == (2, 3, 64, 64)
    assert torch.isfinite(out).all()


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_segresnet_baseline_is_monais_default_architecture():
    """The strongest planar baseline is compared as MONAI builds it by default, not cut down
    (it had one block per level, 150k parameters in 2D)."""
    from monai.networks import nets

    model = build_model("segresnet", input_size=(64, 64), input_scale=1.0, vocab_size=10)
    reference = nets.SegResNet(2, in_channels=2, out_channels=3)
    assert _shapes(model.net) == _shapes(reference)
    assert [len(layer) - 1 for layer in model.net.down_layers] == [1, 2, 2, 4]


def test_unet_baseline_is_monais_tutorial_architecture():
    """The MONAI UNet baseline has the residual units of MONAI's segmentation tutorials (two
    convolutions per unit; it had one)."""
    from monai.networks import nets

    model = build_model("unet", input_size=(64, 64), input_scale=1.0, vocab_size=10)
    reference = nets.UNet(2, 2, 3, channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2),
                          num_res_units=2)  # fmt: skip
    assert _shapes(model.net) == _shapes(reference)
    assert model.net.num_res_units == 2


def _monai_default(name, size):
    """The peer as MONAI builds it by default (or, with no default, as its tutorials do)."""
    from monai.networks import nets

    return {
        "basic_unet": lambda: nets.BasicUNet(2, 2, 3),
        "basic_unet_plusplus": lambda: nets.BasicUNetPlusPlus(2, 2, 3),
        "unetr": lambda: nets.UNETR(2, 3, img_size=size, spatial_dims=2),
        "swin_unetr": lambda: nets.SwinUNETR(2, 3, spatial_dims=2),
        "attention_unet": lambda: nets.AttentionUnet(2, 2, 3, channels=(16, 32, 64, 128, 256),
                                                     strides=(2, 2, 2, 2)),
    }[name]()  # fmt: skip


@pytest.mark.parametrize(
    "name", ["basic_unet", "basic_unet_plusplus", "unetr", "swin_unetr", "attention_unet"]
)
def test_baseline_is_built_as_monai_builds_it(name):
    """No peer is cut down to MT-UNet's scale: BasicUNet and BasicUNet++ had half their default
    features, UNETR hidden size 96, SwinUNETR depths 1, 1, 1, 1, AttentionUnet one level less
    than the UNet's tutorial channels."""
    model = build_model(name, input_size=(64, 64), input_scale=1.0, vocab_size=10)
    assert _shapes(model.net) == _shapes(_monai_default(name, (64, 64)))


def test_dynunet_is_planned_as_monais_tutorial_plans_it():
    """DynUNet's kernels and strides follow the DynUNet tutorial's rule (stride 2 while an axis
    is at least 8 long) and its filters are MONAI's defaults (it had filters 16..128 and a
    fixed 5-level plan whatever the input)."""
    from monai.networks import nets

    from boneread_ml.models.registry import dynunet_plan

    kernels, strides = dynunet_plan((128, 128))
    assert strides == [[1, 1]] + [[2, 2]] * 5 and kernels == [[3, 3]] * 6
    assert dynunet_plan((64, 16))[1] == [[1, 1], [2, 2], [2, 2], [2, 1], [2, 1]]
    with pytest.raises(ValueError, match="not divisible"):
        dynunet_plan((9, 16))
    model = build_model("dynunet", input_size=(128, 128), input_scale=1.0, vocab_size=10)
    assert model.net.filters == [32, 64, 128, 256, 512, 512]
    reference = nets.DynUNet(2, 2, 3, kernel_size=kernels, strides=strides,
                             upsample_kernel_size=strides[1:])  # fmt: skip
    assert _shapes(model.net) == _shapes(reference)


def test_reduced_internal_resolution_and_3d(tokenizer):
    model = build_model("mt_unet", input_scale=0.5, vocab_size=len(tokenizer),
                        mt_unet={"features": (8, 8, 16, 16, 32, 8)})  # fmt: skip
    ids, mask = encode(tokenizer, [REPORT_A])
    assert model(torch.randn(1, 2, 128, 64), ids, mask).shape == (1, 3, 128, 64)
    model3d = tiny_mt_unet(len(tokenizer), spatial_dims=3)
    assert model3d(torch.randn(1, 2, 16, 32, 32), ids, mask).shape == (1, 3, 16, 32, 32)


@pytest.mark.parametrize("shape", [(2, 3, 64, 32), (1, 2, 8, 16, 16), (1, 2, 66, 32)])
def test_half_resolution_input_is_the_area_average(shape):
    """The pooled path of resize_input (traceable for ONNX) is area downsampling, also in 3-D;
    a side that 2 does not divide takes the general path."""
    from boneread_ml.models.mt_unet import resize_input

    x = torch.rand(shape)
    size = [round(s * 0.5) for s in shape[2:]]
    want = torch.nn.functional.interpolate(x, size=size, mode="area")
    torch.testing.assert_close(resize_input(x, 0.5), want, rtol=0, atol=1e-6)
    assert resize_input(x, 1.0) is x


def test_bad_input_raises_value_error(tokenizer):
    model = tiny_mt_unet(len(tokenizer))
    with pytest.raises(ValueError, match="channels"):
        model(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match="divisible by 16"):
        model(torch.randn(1, 2, 60, 64))
    with pytest.raises(ValueError):
        MTUNet(2, 2, 3, features=(8, 8, 16))
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet9000")


def test_gradients_reach_the_text_encoder(tokenizer):
    model = tiny_mt_unet(len(tokenizer))
    ids, mask = encode(tokenizer, [REPORT_A, REPORT_B])
    model(torch.randn(2, 2, 64, 64), ids, mask).square().mean().backward()
    grads = [p.grad for n, p in model.named_parameters() if n.startswith("text_encoder.")]
    assert grads and all(g is not None for g in grads[:3])
    assert model.text_encoder.bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0
    assert all(g.grad is not None and g.grad.abs() > 0 for g in model.fusion_gates())


def test_different_reports_change_the_output(tokenizer):
    model = tiny_mt_unet(len(tokenizer)).eval()
    image = torch.randn(1, 2, 64, 64)
    with torch.no_grad():
        out_a = model(image, *encode(tokenizer, [REPORT_A]))
        out_b = model(image, *encode(tokenizer, [REPORT_B]))
        out_empty = model(image, *encode(tokenizer, [""]))
    assert (out_a - out_b).abs().max() > 1e-4
    assert (out_a - out_empty).abs().max() > 1e-4


def test_padding_is_masked(tokenizer):
    """A report's output does not depend on how much padding its batch adds."""
    model = tiny_mt_unet(len(tokenizer)).eval()
    image = torch.randn(1, 2, 64, 64)
    with torch.no_grad():
        alone = model(image, *encode(tokenizer, [REPORT_B]))
        ids, mask = encode(tokenizer, [REPORT_B, REPORT_A + REPORT_A])
        padded = model(image.repeat(2, 1, 1, 1), ids, mask)[:1]
    torch.testing.assert_close(alone, padded, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("prior", [False, True])
def test_gate_at_zero_equals_the_image_only_path(tokenizer, prior):
    model = tiny_mt_unet(len(tokenizer), grounding=prior, report_prior=prior).eval()
    image = torch.randn(2, 2, 64, 64)
    ids, mask = encode(tokenizer, [REPORT_A, REPORT_B])
    with torch.no_grad():
        image_only = model(image)
        assert (model(image, ids, mask) - image_only).abs().max() > 1e-4  # gates open: text matters
        for gate in model.fusion_gates():
            gate.zero_()
        torch.testing.assert_close(model(image, ids, mask), image_only, atol=0, rtol=0)


def test_same_seed_same_model_and_output(tokenizer):
    image = torch.randn(1, 2, 64, 64)
    ids, mask = encode(tokenizer, [REPORT_A])
    outs = []
    for _ in range(2):
        model = tiny_mt_unet(len(tokenizer)).eval()
        with torch.no_grad():
            outs.append(model(image, ids, mask))
    torch.testing.assert_close(outs[0], outs[1], atol=0, rtol=0)


def test_text_encoder_loads_a_local_bert_folder_like_macbert(tmp_path, tokenizer):
    """--text-encoder PATH: the same from_pretrained path real hfl/chinese-macbert-base takes."""
    folder = tmp_path / "tiny-macbert"
    bert = BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1,
                                num_attention_heads=2, intermediate_size=64), add_pooling_layer=False)  # fmt: skip
    bert.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    model = build_model("mt_unet", vocab_size=None, text={"pretrained": str(folder)},
                        mt_unet={"features": (8, 8, 16, 16, 32, 8)})  # fmt: skip
    loaded = model.text_encoder.bert.embeddings.word_embeddings.weight
    torch.testing.assert_close(loaded, bert.embeddings.word_embeddings.weight)
    tok = load_tokenizer(folder)
    ids, mask = encode(tok, [REPORT_A])
    assert model(torch.randn(1, 2, 64, 64), ids, mask).shape == (1, 3, 64, 64)
    with pytest.raises(FileNotFoundError):
        ReportEncoder.from_pretrained(tmp_path / "missing")


def test_crop_extent_reaches_the_cross_attention(tokenizer):
    """A crop's position in the body changes what the decoder attends with."""
    model = tiny_mt_unet(len(tokenizer)).eval()
    image = torch.randn(1, 2, 64, 64)
    ids, mask = encode(tokenizer, [REPORT_A])
    top = torch.tensor([[[-1.0, -0.5], [-1.0, 1.0]]])
    with torch.no_grad():
        whole = model(image, ids, mask)
        torch.testing.assert_close(
            model(image, ids, mask, extent=torch.tensor([[[-1.0, 1.0]] * 2])), whole
        )
        assert (model(image, ids, mask, extent=top) - whole).abs().max() > 1e-5


def test_slice_position_reaches_the_cross_attention(tokenizer):
    """Slice-wise SPECT/CT: the slice's axial position is a third query coordinate."""
    feats = coordinate_features((4, 4), 3, "cpu", torch.float32, None, coord_dims=3)
    assert feats.shape == (1, 16, 3 * 2 * 3)
    model = tiny_mt_unet(len(tokenizer), coord_dims=3).eval()
    image = torch.randn(1, 2, 64, 64)
    ids, mask = encode(tokenizer, [REPORT_A])
    plane = [[-1.0, 1.0], [-1.0, 1.0]]
    with torch.no_grad():
        centre = model(image, ids, mask, extent=torch.tensor([[[0.0, 0.0], *plane]]))
        torch.testing.assert_close(model(image, ids, mask), centre)  # no position: the centre
        top = model(image, ids, mask, extent=torch.tensor([[[-0.8, -0.8], *plane]]))
    assert (top - centre).abs().max() > 1e-5
    with pytest.raises(ValueError, match="extent must be"):
        model(image, ids, mask, extent=torch.tensor([[[-1.0, 1.0]]]))  # one row for a 2-D image


def test_grounding_heads_and_the_report_prior(tokenizer):
    model = tiny_mt_unet(len(tokenizer), grounding=True, report_prior=True).eval()
    image = torch.randn(2, 2, 64, 64)
    ids, mask = encode(tokenizer, [REPORT_A, ""])
    with torch.no_grad():
        logits, aux = model(image, ids, mask, return_aux=True)
        assert aux["site_logits"].shape == (2, 2, 8, 8) and aux["case_logits"].shape == (2, 2)
        assert model(image, return_aux=True)[1] == {}  # no report, no heads
        model.prior_weight.zero_()
        without_prior = model(image, ids, mask)
    assert (logits[0] - without_prior[0]).abs().max() > 1e-4  # the report shifts the classes
    torch.testing.assert_close(logits[1], without_prior[1])  # an empty report adds nothing
    assert torch.equal(logits[:, 0], without_prior[:, 0])  # background logits untouched
    with pytest.raises(ValueError, match="report_prior needs grounding"):
        tiny_mt_unet(len(tokenizer), report_prior=True)


def test_grounding_loss_teaches_the_report_to_decide_the_class(tokenizer):
    """Same image, two reports: only the text can tell the site head the lesion's class."""
    from boneread_ml.training.losses import GroundingLoss

    model = tiny_mt_unet(len(tokenizer), grounding=True)
    image = torch.randn(1, 2, 64, 64).repeat(2, 1, 1, 1)
    label = torch.zeros(2, 64, 64, dtype=torch.long)
    label[0, 24:40, 24:40] = 2  # metastatic, described with 转移
    label[1, 24:40, 24:40] = 1  # benign, described as degenerative
    case_classes = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    ids, mask = encode(tokenizer, [REPORT_A, REPORT_B])
    loss_fn = GroundingLoss()

    no_text = loss_fn(model(image, ids, mask, return_aux=True)[1], label, case_classes,
                      torch.tensor([False, False]))  # fmt: skip
    assert float(no_text.detach()) == 0.0
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(40):
        _, aux = model(image, ids, mask, return_aux=True)
        loss = loss_fn(aux, label, case_classes, torch.tensor([True, True]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert model.text_encoder.bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0
    with torch.no_grad():
        _, aux = model.eval()(image, ids, mask, return_aux=True)
    site = aux["site_logits"][:, :, 3:5, 3:5].mean((2, 3)).argmax(1)  # the lesion's cells
    assert site.tolist() == [1, 0]  # metastatic for report A, benign for report B
    assert (aux["case_logits"] > 0).tolist() == [[False, True], [True, False]]
