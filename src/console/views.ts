/**
 * The console's views, in the order of its navigation.
 * @module
 */
import type { Registry } from "../registry/registry.ts";
import { overviewView } from "./overview_view.tsx";
import type { ConsoleView } from "./view.ts";

/** What the views read. */
export interface ConsoleViewDeps {
  readonly registry: Registry;
  readonly now: () => number;
}

/** Every view of the console. */
export function consoleViews(deps: ConsoleViewDeps): readonly ConsoleView[] {
  return [overviewView(deps.registry, deps.now)];
}
