/**
 * The console's page: a header with who is signed in, the navigation between views, the
 * region a view is shown in, a line for what an action did, and the sign-in form. The views'
 * contents come from `/admin/console/<view>` once signed in.
 * @module
 */
import type { ConsoleView } from "./view.ts";

/** What the page names. */
export interface ConsolePageProps {
  readonly views: readonly ConsoleView[];
  /** The gateway's version, in the header. */
  readonly version: string;
}

/** The whole console page. */
export function ConsolePage(props: ConsolePageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>Switchyard console</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script type="module" src="/console/assets/console.js"></script>
      </head>
      <body>
        <a class="skip" href="#view">Skip to content</a>
        <header class="top">
          <strong class="brand">Switchyard</strong>
          <span class="muted">{props.version}</span>
          <span id="signed-in" class="muted" aria-live="polite"></span>
          <span class="spacer"></span>
          <button type="button" id="theme" aria-label="Switch between light and dark">
            Theme
          </button>
          <button type="button" id="sign-out" hidden>Sign out</button>
        </header>
        <nav class="views" aria-label="Console views">
          {props.views.map((view) => (
            <a key={view.id} href={`#${view.id}`} data-view={view.id}>{view.title}</a>
          ))}
        </nav>
        <p id="notice" role="status" aria-live="polite" hidden></p>
        <main id="view" tabindex={-1} aria-busy="true">
          <p class="muted">Loading…</p>
        </main>
        <dialog id="sign-in" aria-labelledby="sign-in-title">
          <form method="dialog" id="sign-in-form">
            <h2 id="sign-in-title">Sign in</h2>
            <p id="sign-in-reason" class="muted"></p>
            <label for="admin-key">Admin key or admin token</label>
            <input
              id="admin-key"
              name="key"
              type="password"
              autocomplete="current-password"
              required
            />
            <p class="muted small">
              Kept in this tab only, and sent to this gateway's admin API.
            </p>
            <button type="submit">Sign in</button>
          </form>
        </dialog>
        <dialog id="reveal" aria-labelledby="reveal-title">
          <form method="dialog">
            <h2 id="reveal-title">Shown once</h2>
            <p class="muted">Copy it now: it is not shown again.</p>
            <output id="reveal-value" class="secret"></output>
            <button type="submit">Done</button>
          </form>
        </dialog>
      </body>
    </html>
  );
}
