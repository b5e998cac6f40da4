import { describe, expect, it } from "vitest";
import { translate } from "../../i18n/translate";
import type { MessageKey } from "../../i18n/messages";
import type { TranslateParams } from "../../i18n/translate";
import { regionName } from "./regionName";

const en = (key: MessageKey, params?: TranslateParams) => translate("en", key, params);
const zh = (key: MessageKey, params?: TranslateParams) => translate("zh", key, params);

describe("regionName", () => {
  it("translates codes in both languages", () => {
    expect(regionName("rib:right", "右侧肋骨", en)).toBe("right rib");
    expect(regionName("rib:right", "右侧肋骨", zh)).toBe("右侧肋骨");
    expect(regionName("rib:left:5", null, en)).toBe("left rib 5");
    expect(regionName("rib:left:5", null, zh)).toBe("左侧第5肋");
    expect(regionName("lumbar_spine:mid:3", null, zh)).toBe("第3腰椎");
    expect(regionName("lumbar_spine:mid:3", null, en)).toBe("lumbar spine 3");
    expect(regionName("thoracic_spine", "胸椎", en)).toBe("thoracic spine");
    expect(regionName("clavicle_shoulder:left", null, zh)).toBe("左侧锁骨/肩部");
  });
  it("falls back to the server's text for unknown or missing codes", () => {
    expect(regionName(null, "右侧肋骨", en)).toBe("右侧肋骨");
    expect(regionName("spleen", "脾", en)).toBe("脾");
    expect(regionName("not a code", null, en)).toBe("");
  });
  it("names joints with their side", () => {
    expect(regionName("sacroiliac:right", null, en)).toBe("right sacroiliac joint");
    expect(regionName("sacroiliac:right", null, zh)).toBe("右侧骶髂关节");
  });
});
