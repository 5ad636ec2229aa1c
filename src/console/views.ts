/**
 * The console's views, in the order of its navigation.
 * @module
 */
import type { Registry } from "../registry/registry.ts";
import { LIVE_ASSETS, liveView } from "./live_view.tsx";
import { overviewView } from "./overview_view.tsx";
import { PLAYGROUND_ASSETS, playgroundView } from "./playground_view.tsx";
import type { ConsoleView } from "./view.ts";

/** What the views read. */
export interface ConsoleViewDeps {
  readonly registry: Registry;
  readonly now: () => number;
  /** Whether `/v1` needs a client key (`auth.enabled`). */
  readonly clientAuth: boolean;
}

/** Every view of the console. */
export function consoleViews(deps: ConsoleViewDeps): readonly ConsoleView[] {
  return [
    overviewView(deps.registry, deps.now),
    liveView(deps.registry),
    playgroundView({ registry: deps.registry, clientAuth: deps.clientAuth }),
  ];
}

/** The files the views' own scripts are served from, under `/console/assets/`. */
export const CONSOLE_VIEW_ASSETS = { ...LIVE_ASSETS, ...PLAYGROUND_ASSETS };
