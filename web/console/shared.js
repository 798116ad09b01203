/**
 * The modules of web/shared/ that the console uses. The gateway serves that folder at
 * `<base>/web-shared/` (web-pages.ts), not where it lies beside web/console/ on disk, so
 * they are imported from there at run time and typed from the files on disk.
 */
const base = new URL('../web-shared/', import.meta.url).href;

export const { apiRoot } = /** @type {typeof import('../shared/api-root.js')} */ (await import(`${base}api-root.js`));
export const { pagedTable } = /** @type {typeof import('../shared/table.js')} */ (await import(`${base}table.js`));
