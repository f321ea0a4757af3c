import type { Request } from 'express';

/** The `route` label of requests that match no route, so unknown paths (scanners) cannot grow the series. */
export const UNMATCHED_ROUTE = 'unmatched';

interface RouteLike {
  path: unknown;
  _handlesMethod?: (method: string) => boolean;
}

interface LayerLike {
  route?: RouteLike;
  match?: (path: string) => unknown;
}

interface RouterLike {
  stack?: unknown;
}

/**
 * The request's path as the client sent it. `req.path` is relative to the mount point of whatever middleware is
 * running, so it is not the path the router matches at the top.
 */
export function originalPathOf(req: Request): string {
  return (req.originalUrl || req.url).split('?', 1)[0];
}

/**
 * Catch-all patterns (`/{*path}`, `*`): Nest mounts middleware that way and the request may still carry that
 * route when a middleware rejects it or nothing else matches. They say nothing about which endpoint was asked for.
 */
function isCatchAll(pattern: string): boolean {
  return /^\/?\{?\/?\*\w*\}?$/.test(pattern) || pattern === '(.*)';
}

/** Express writes a literal ":" as "\:" (`/v1/models/:name\:predict`); the label reads as the URL is written. */
function readable(pattern: string): string {
  return pattern.replace(/\\(.)/g, '$1');
}

/**
 * A request rejected by a middleware (a body over the limit, a wrong content type) ends before Express has
 * routed it, so `req.route` is unset. Asking the app's router which route would have taken it keeps such
 * requests under their route instead of `unmatched`. Express 5's router is duck-typed here: if its shape ever
 * changes, this finds nothing and the request is counted as `unmatched`, never as its raw URL.
 */
function findRoute(req: Request): string | undefined {
  const router = (req.app as { router?: RouterLike }).router;
  const stack = router?.stack;
  if (!Array.isArray(stack)) return undefined;
  const path = originalPathOf(req);
  for (const layer of stack as LayerLike[]) {
    const route = layer.route;
    if (route === undefined || typeof route.path !== 'string' || typeof layer.match !== 'function') continue;
    if (isCatchAll(route.path)) continue;
    if (route._handlesMethod !== undefined && !route._handlesMethod(req.method)) continue;
    try {
      if (layer.match(path)) return route.path;
    } catch {
      // The router decodes parameters while matching: a path with a bad escape (`/v1/models/%zz`) matches nothing.
      return undefined;
    }
  }
  return undefined;
}

/**
 * The route pattern a request was (or would have been) handled by, prefixed with any base path: bounded
 * cardinality for metric labels, unlike the URL.
 */
export function routePatternOf(req: Request): string {
  const matched = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof matched === 'string' && !isCatchAll(matched)) return readable(`${req.baseUrl}${matched}`);
  const found = findRoute(req);
  return found === undefined ? UNMATCHED_ROUTE : readable(found);
}
