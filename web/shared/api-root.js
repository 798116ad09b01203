/**
 * Where the gateway's API is, seen from a page: the page lives at `<base>/<page>/`, the
 * API at `<base>/v1/…`, whatever PUBLIC_BASE_PATH a reverse proxy puts in front.
 * @param {string} pathname location.pathname of the page
 * @returns {string} the API's base path, without a trailing slash
 */
export function apiRoot(pathname = location.pathname) {
  return pathname.replace(/\/[^/]+\/[^/]*$/, '');
}
