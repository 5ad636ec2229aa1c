/**
 * `GET /admin/usage`: what each key and team used, per model and day — requests, input and
 * output tokens, and spend — from the ledger the budgets are checked against.
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { UsageLedger } from "../budget/ledger.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import { ADMIN_ERRORS, jsonContent } from "./admin_api.ts";

const DAY = /^\d{4}-\d{2}-\d{2}$/;

const UsageRowSchema = z.object({
  day: z.string(),
  key: z.string().nullable().openapi({ description: "the key; null on a team's row" }),
  team: z.string().nullable().openapi({
    description: "the team; on a key's row, the team the key is in now (null if none, and for " +
      "a JWT client, whose team comes with each token)",
  }),
  model: z.string(),
  requests: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  spend_usd: z.number(),
});

const UsageSchema = z.object({
  from: z.string(),
  to: z.string(),
  time_zone: z.string(),
  usage: z.array(UsageRowSchema),
}).openapi("Usage", {
  example: {
    from: "2026-12-01",
    to: "2026-12-05",
    time_zone: "UTC",
    usage: [{
      day: "2026-12-05",
      key: "alice",
      team: "research",
      model: "qwen3-32b",
      requests: 42,
      input_tokens: 12_800,
      output_tokens: 4_100,
      spend_usd: 0.0213,
    }],
  },
});

/** Mounts `GET /admin/usage`. */
export function mountUsageRoutes(
  app: GatewayApp,
  deps: {
    readonly ledger: UsageLedger | undefined;
    readonly timeZone: string;
    /** The team a key is in now. */
    readonly teamOfKey: (key: string) => string | undefined;
  },
): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/admin/usage",
    tags: ["Admin: usage"],
    summary: "Use per key, team, model and day: requests, tokens and spend",
    request: {
      query: z.object({
        from: z.string().optional().openapi({ description: "first day, YYYY-MM-DD; today" }),
        to: z.string().optional().openapi({ description: "last day, YYYY-MM-DD; today" }),
        key: z.string().optional().openapi({ description: "only this key's use" }),
        team: z.string().optional().openapi({
          description: "only this team's use: its rows, and those of the keys now in it",
        }),
        model: z.string().optional(),
      }),
    },
    responses: {
      200: {
        description: "The use, a row per day, key or team, and model",
        content: jsonContent(UsageSchema),
      },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/usage", async (c) => {
    const ledger = deps.ledger;
    if (ledger === undefined) {
      throw new GatewayError(
        404,
        "usage_not_kept",
        "Use per key and team is kept only with client authentication on (auth.enabled)",
      );
    }
    const today = ledger.periods().day;
    const from = c.req.query("from") ?? today;
    const to = c.req.query("to") ?? today;
    for (const [param, value] of [["from", from], ["to", to]] as const) {
      if (!DAY.test(value)) {
        throw new GatewayError(400, "invalid_request", `${param} must be a day, YYYY-MM-DD`, {
          param,
        });
      }
    }
    const key = c.req.query("key");
    const team = c.req.query("team");
    const model = c.req.query("model");
    // A row per day, subject and model, in the order the schema lists its fields.
    const usage = (await ledger.report(from, to)).map((row) => {
      const keyId = row.subject.startsWith("key:") ? row.subject.slice(4) : null;
      return {
        day: row.day,
        key: keyId,
        team: keyId === null ? row.subject.slice(5) : deps.teamOfKey(keyId) ?? null,
        model: row.model,
        requests: row.requests,
        input_tokens: row.input_tokens,
        output_tokens: row.output_tokens,
        spend_usd: row.spend_usd,
      };
    }).filter((row) =>
      (key === undefined || row.key === key) &&
      (team === undefined || row.team === team) &&
      (model === undefined || row.model === model)
    );
    return c.json({ from, to, time_zone: deps.timeZone, usage }, 200);
  });
}
