/**
 * What the server does with an error that escaped the app: one thrown outside Hono's own
 * error handling, or a response body that failed while it was being sent.
 * @module
 */
import { errorResponse, internalError } from "./errors.ts";
import { BodyCut } from "./proxy/respond/body_cut.ts";

/**
 * The server's `onError`: logs an unexpected error through `logError` and answers the client
 * with a 500 in OpenAI's shape (when its head has not gone out yet). A body cut on purpose is
 * not logged again: its request line already says why.
 */
export function serveErrorHandler(
  logError: (message: string, error: unknown) => void,
): (error: unknown) => Response {
  return function serveError(error: unknown): Response {
    if (!(error instanceof BodyCut)) logError("Unexpected error serving a request", error);
    return errorResponse(internalError());
  };
}
