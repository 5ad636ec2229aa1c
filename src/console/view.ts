/**
 * What a console view is: a name in the navigation, and a fragment of HTML rendered for the
 * admin asking, fresh each time the page shows or refreshes it.
 * @module
 */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import { type AdminRole, allows, requiredRole } from "../admin/roles.ts";
import type { GatewayEnv } from "../gateway_env.ts";

/** One view of the console. */
export interface ConsoleView {
  /** Its id: the page's `#id` and the fragment's path, `/admin/console/<id>`. */
  readonly id: string;
  /** Its name in the navigation. */
  readonly title: string;
  /** Renders the view for the admin asking. */
  render(c: Context<GatewayEnv>): Child | Promise<Child>;
}

/** The role of the admin a fragment is rendered for. */
export function roleOf(c: Context<GatewayEnv>): AdminRole {
  return c.get("adminRole") ?? "viewer";
}

/**
 * Whether the admin asking may make the admin API call `method path`: the same table the API
 * itself checks, so a control the console offers is never refused for its role.
 */
export function mayCall(c: Context<GatewayEnv>, method: string, path: string): boolean {
  return allows(roleOf(c), requiredRole(method, path));
}

/** Why a control is disabled for the admin asking, for its `title`; none when it is allowed. */
export function refusalOf(
  c: Context<GatewayEnv>,
  method: string,
  path: string,
): string | undefined {
  const needed = requiredRole(method, path);
  return allows(roleOf(c), needed)
    ? undefined
    : `Needs the ${needed} role; you have the ${roleOf(c)} role`;
}
