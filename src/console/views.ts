/**
 * The console's views, in the order of its navigation.
 * @module
 */
import type { AuditLog } from "../admin/audit.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import type { UsageLedger } from "../budget/ledger.ts";
import type { LiveConfig } from "../config/live_config.ts";
import type { Telemetry } from "../observe/telemetry.ts";
import type { Registry } from "../registry/registry.ts";
import type { ApiKeyStore } from "../store/mod.ts";
import { errorsView } from "./errors_view.tsx";
import { instancesView } from "./instances_view.tsx";
import { keysView } from "./keys_view.tsx";
import { LIVE_ASSETS, liveView } from "./live_view.tsx";
import { overviewView } from "./overview_view.tsx";
import { PLAYGROUND_ASSETS, playgroundView } from "./playground_view.tsx";
import { versionsView } from "./versions_view.tsx";
import type { ConsoleView } from "./view.ts";

/** What the views read. */
export interface ConsoleViewDeps {
  readonly registry: Registry;
  readonly now: () => number;
  readonly live: LiveConfig;
  readonly audit: AuditLog;
  readonly keys: ApiKeyStore;
  readonly authenticator: Authenticator;
  /** Use per key and team; none without client authentication. */
  readonly ledger: UsageLedger | undefined;
  readonly telemetry: Telemetry;
}

/** Every view of the console. */
export function consoleViews(deps: ConsoleViewDeps): readonly ConsoleView[] {
  return [
    overviewView(deps.registry, deps.now),
    instancesView(deps),
    liveView(deps.registry),
    versionsView(deps),
    keysView(deps),
    errorsView(deps),
    playgroundView({ registry: deps.registry, clientAuth: deps.authenticator.enabled }),
  ];
}

/** The files the views' own scripts are served from, under `/console/assets/`. */
export const CONSOLE_VIEW_ASSETS = { ...LIVE_ASSETS, ...PLAYGROUND_ASSETS };
