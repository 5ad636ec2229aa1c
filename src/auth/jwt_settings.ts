/**
 * JWT verification settings as the config writes them (`auth.jwt`, `admin.jwt`), turned into
 * what {@linkcode JwtVerifier} takes.
 * @module
 */
import type { JwtAlgorithm, JwtSettings } from "./jwt.ts";

/** The verification keys of a JWT section of the config. */
export interface JwtSection {
  readonly algorithms: readonly JwtAlgorithm[];
  readonly "jwks-url"?: string | undefined;
  readonly key?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | readonly string[] | undefined;
  readonly "clock-skew": number;
}

/** The verifier settings of a JWT section. */
export function jwtSettingsOf(section: JwtSection): JwtSettings {
  const { audience } = section;
  return {
    algorithms: section.algorithms,
    ...(section["jwks-url"] === undefined ? {} : { jwksUrl: section["jwks-url"] }),
    ...(section.key === undefined ? {} : { key: section.key }),
    ...(section.issuer === undefined ? {} : { issuer: section.issuer }),
    ...(audience === undefined
      ? {}
      : { audience: typeof audience === "string" ? [audience] : audience }),
    clockSkew: section["clock-skew"],
  };
}
