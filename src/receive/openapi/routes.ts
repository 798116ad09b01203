/**
 * The routes an express 5 application really has, for checking the API description
 * against them: every layer with a route, through every nested router. Express's
 * router keeps a mount path only as a matcher, not as text, so the routers must be
 * mounted where their routes name the whole path (createApp mounts each at the base
 * path), and the paths listed are relative to it.
 */

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
  handle?: { stack?: Layer[] };
}

/** `/v1/exchanges/:exchangeId` → `/v1/exchanges/{exchangeId}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Every method and path of `app`'s routes, in OpenAPI form (`get /v1/status/{scheme}/{id}`), sorted and without repeats. */
export function listRoutes(app: { router: unknown }): string[] {
  const found = new Set<string>();
  const walk = (stack: readonly Layer[]) => {
    for (const layer of stack) {
      if (layer.route !== undefined) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) if (on === true && method !== '_all') found.add(`${method} ${openApiPath(String(path))}`);
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app.router as { stack?: Layer[] }).stack ?? []);
  return [...found].sort();
}
