import { describe, expect, it } from "vitest";
import { ApiError } from "../api/ApiError";
import { parseErrorBody } from "../api/parseErrorBody";
import type { MessageKey } from "../i18n/messages";
import { translate, type TranslateParams } from "../i18n/translate";
import { errorDetail, errorText } from "./errorText";

const zh = (key: MessageKey, params?: TranslateParams) => translate("zh", key, params);
const en = (key: MessageKey, params?: TranslateParams) => translate("en", key, params);

describe("errorText", () => {
  it("translates the server's error code with its params", () => {
    const error = new ApiError(
      409,
      "The report was changed by someone else",
      {},
      "report_stale_version",
      {
        base_version: 1,
        current_version: 2,
      },
    );
    expect(errorText(error, zh)).toBe(
      "他人已修改此报告（您编辑的是第 1 版，当前为第 2 版）。",
    );
    expect(errorText(error, en)).toContain("current version is 2");
    expect(errorDetail(error)).toBe("The report was changed by someone else");
  });
  it("never shows the server's English in the Chinese UI", () => {
    const unknownCode = new ApiError(400, "Bad thing happened", {}, "brand_new_code");
    expect(errorText(unknownCode, zh)).toBe("服务器拒绝了该请求（输入无效）。");
    expect(errorText(new ApiError(503, "Service Unavailable"), zh)).toBe(
      "服务器出现问题（503），请稍后再试。",
    );
    expect(errorText(new ApiError(418, "teapot"), zh)).toBe("请求失败（418）。");
    expect(errorText(new ApiError(0, "network"), zh)).toBe("无法连接服务器。");
  });
  it("reads code and params out of the error body", () => {
    const body = parseErrorBody(
      {
        message: "No study with id x.",
        extra: {},
        code: "study_not_found",
        params: { id: "x" },
      },
      404,
    );
    expect(body.code).toBe("study_not_found");
    expect(body.params).toEqual({ id: "x" });
    expect(parseErrorBody({ detail: "Not found." }, 404).code).toBeUndefined();
  });
});
