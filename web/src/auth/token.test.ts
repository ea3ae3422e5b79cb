import { describe, expect, it } from "vitest";

import { claimsOf, refreshDelayMs, tokenFromHash } from "./token";

const jwt = (claims: object) => `x.${btoa(JSON.stringify(claims)).replace(/=+$/, "")}.sig`;

describe("tokens", () => {
  it("reads the token from the fragment and keeps the rest of it", () => {
    expect(tokenFromHash("#token=abc&media=http%3A%2F%2Fm")).toEqual({ token: "abc", rest: "#media=http%3A%2F%2Fm" });
    expect(tokenFromHash("")).toEqual({ token: null, rest: "" });
  });

  it("decodes the claims and asks for a fresh token before expiry", () => {
    const token = jwt({ sub: "agent", exp: 1_000 });
    expect(claimsOf(token)?.sub).toBe("agent");
    expect(claimsOf("not a jwt")).toBeNull();
    expect(refreshDelayMs(token, 0)).toBe(940_000); // a minute before a long-lived token ends
    expect(refreshDelayMs(token, 900_000)).toBe(80_000); // a fifth before a short one ends
    expect(refreshDelayMs(token, 2_000_000)).toBe(0);
  });
});
