/**
 * `/admin/teams`: teams of client keys. Teams written in the config file are listed but changed
 * there; teams made here are kept in the store, validated like the file's, and take effect in
 * every gateway sharing it.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { type TeamConfig, teamProblems, TeamSchema } from "../config/schema.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import type { JsonObject } from "../lib/json.ts";
import type { StoredApiKey, StoredTeam } from "../store/mod.ts";
import {
  ADMIN_ERRORS,
  type AdminDeps,
  adminOf,
  callerOf,
  invalidConfig,
  jsonContent,
  parsedOr400,
  readJsonObject,
  storing,
  WRITE_ERRORS,
} from "./admin_api.ts";
import { mergePatch } from "./merge_patch.ts";
import { RecordRefusals } from "./record_refusals.ts";

const TEAM_REFUSALS = new RecordRefusals("team", "team");

const TeamInfo = TeamSchema.extend({
  source: z.enum(["config", "admin"]).describe("where it is written, and so where it changes"),
  keys: z.array(z.string()).describe("the ids of its keys"),
  created: z.string().optional(),
  by: z.string().optional(),
}).openapi("TeamInfo");
const IdParam = z.object({ id: z.string() });
const AnyObject = z.record(z.string(), z.unknown());

/** Mounts the team routes. */
export function mountTeamRoutes(app: GatewayApp, deps: AdminDeps): void {
  const registry = app.openAPIRegistry;
  const tags = ["Admin: API keys"];
  const now = deps.now ?? Date.now;

  /** Every key's id, by the team it is in. */
  const keysByTeam = async () => {
    const members = new Map<string, string[]>();
    const keys = [...deps.authenticator.configuredKeys, ...await deps.keys.list()];
    for (const key of keys) {
      if (key.team !== undefined) members.set(key.team, [...members.get(key.team) ?? [], key.id]);
    }
    return members;
  };

  registry.registerPath({
    method: "get",
    path: "/admin/teams",
    tags,
    summary: "Every team, with the ids of its keys",
    responses: {
      200: {
        description: "The teams",
        content: jsonContent(z.object({ teams: z.array(TeamInfo) })),
      },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/teams", async (c) => {
    const members = await keysByTeam();
    const stored = new Map((await deps.teams.list()).map((team) => [team.id, team]));
    const teams = deps.authenticator.teams.map((team) =>
      info(team, members.get(team.id) ?? [], stored.get(team.id))
    );
    return c.json({ teams }, 200);
  });

  registry.registerPath({
    method: "post",
    path: "/admin/teams",
    tags,
    summary: "Create a team: its models, shared limits, budget and class",
    request: { body: { content: jsonContent(AnyObject) } },
    responses: {
      201: { description: "Created", content: jsonContent(TeamInfo) },
      409: {
        description: "A team with that id exists",
        content: jsonContent(z.object({ error: z.unknown() })),
      },
      ...WRITE_ERRORS,
    },
  });
  app.post("/admin/teams", async (c) => {
    const body = await readJsonObject(c);
    const team = validTeam(body);
    if (deps.authenticator.team(team.id)) throw TEAM_REFUSALS.taken(team.id);
    const stored: StoredTeam = {
      ...(body as z.input<typeof TeamSchema>),
      id: team.id,
      created: new Date(now()).toISOString(),
      by: adminOf(c),
    };
    const entry = deps.audit.entry({
      ...callerOf(c),
      action: "create team",
      target: team.id,
      after: stored,
    });
    if (!await storing(() => deps.teams.create(stored, entry))) throw TEAM_REFUSALS.taken(team.id);
    await deps.reloadClients();
    return c.json(info(team, [], stored), 201);
  });

  registry.registerPath({
    method: "patch",
    path: "/admin/teams/{id}",
    tags,
    summary: "Change a team's models, limits, budget, class or enabled flag (JSON Merge Patch)",
    request: { params: IdParam, body: { content: jsonContent(AnyObject) } },
    responses: { 200: { description: "Changed", content: jsonContent(TeamInfo) }, ...WRITE_ERRORS },
  });
  app.patch("/admin/teams/:id", async (c) => {
    const id = c.req.param("id");
    if (deps.authenticator.configuredTeamIds.has(id)) throw TEAM_REFUSALS.inConfig(id);
    const patch = await readJsonObject(c);
    if ("id" in patch) {
      throw new GatewayError(400, "invalid_request", "A team's id cannot be changed", {
        param: "id",
      });
    }
    const members = (await deps.keys.list()).filter((key) => key.team === id);
    let changed: TeamConfig | undefined;
    const updated = await storing(() =>
      deps.teams.update(
        id,
        (team) => {
          const { created, by, ...written } = team;
          const merged = mergePatch(written, patch) as JsonObject;
          changed = validTeam(merged);
          keysStillFit(changed, members);
          return { ...(merged as z.input<typeof TeamSchema>), id, created, by };
        },
        (before, after) =>
          deps.audit.entry({ ...callerOf(c), action: "update team", target: id, before, after }),
      )
    );
    if (!updated || !changed) throw TEAM_REFUSALS.missing(id);
    await deps.reloadClients();
    return c.json(info(changed, members.map((key) => key.id), updated), 200);
  });

  registry.registerPath({
    method: "delete",
    path: "/admin/teams/{id}",
    tags,
    summary: "Delete a team that has no keys",
    request: { params: IdParam },
    responses: {
      204: { description: "Deleted" },
      409: {
        description: "The team still has keys, or is written in the config file",
        content: jsonContent(z.object({ error: z.unknown() })),
      },
      ...WRITE_ERRORS,
    },
  });
  app.delete("/admin/teams/:id", async (c) => {
    const id = c.req.param("id");
    if (deps.authenticator.configuredTeamIds.has(id)) throw TEAM_REFUSALS.inConfig(id);
    const members = (await keysByTeam()).get(id) ?? [];
    if (members.length > 0) {
      throw new GatewayError(
        409,
        "team_in_use",
        `The team "${id}" still has keys (${members.join(", ")}): move them to another team ` +
          `or revoke them first`,
      );
    }
    const deleted = await deps.teams.delete(
      id,
      (before) => deps.audit.entry({ ...callerOf(c), action: "delete team", target: id, before }),
    );
    if (!deleted) throw TEAM_REFUSALS.missing(id);
    await deps.reloadClients();
    return c.body(null, 204);
  });
}

function info(team: TeamConfig, keys: readonly string[], stored: StoredTeam | undefined) {
  return {
    ...team,
    source: stored ? "admin" as const : "config" as const,
    keys: [...keys],
    ...(stored ? { created: stored.created, by: stored.by } : {}),
  };
}

/** A team's settings, once they validate as the config file's would. */
function validTeam(body: JsonObject): TeamConfig {
  return parsedOr400(TeamSchema, body, "The team");
}

/** Refuses a change to a team that would leave one of its keys above what it allows. */
function keysStillFit(team: TeamConfig, keys: readonly StoredApiKey[]): void {
  const problems = keys.flatMap((key) =>
    teamProblems(key, team).map(({ key: field, message }) => ({
      path: field === "team" ? "id" : field,
      message: `the key "${key.id}": ${message}`,
    }))
  );
  if (problems.length > 0) throw invalidConfig(problems, "The change");
}
