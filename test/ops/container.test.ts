/**
 * The container image and the compose file, read as files (Docker does not run here):
 * what can be checked without building is checked — the init process, the health check
 * on /readyz, the pages copied, and in compose the four services wired as RUNNING.md
 * says (two API replicas and a worker on one Redis and one PostgreSQL, one shared
 * signing key given as a secret, everything health-checked and started in order).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, line continuations joined and comments dropped; each stage from its FROM. */
function dockerfileStages(text: string): Instruction[][] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)?.push({ keyword: keyword.toUpperCase(), args });
  }
  return stages;
}

/** An exec-form (JSON array) argument, or the shell form split on spaces. */
const words = (args: string): string[] => (args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.trim().split(/\s+/));

describe('Dockerfile', () => {
  const stages = dockerfileStages(read('Dockerfile'));
  const final = stages.at(-1)!;
  const all = (keyword: string) => final.filter((i) => i.keyword === keyword);
  const one = (keyword: string) => {
    const found = all(keyword);
    expect(found, `the final stage has one ${keyword}`).toHaveLength(1);
    return found[0]!;
  };

  it('is a multi-stage build whose final stage runs as an unprivileged user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = one('USER').args.trim();
    expect(['root', '0', '']).not.toContain(user);
  });

  it('runs the gateway under an init process installed from Debian (tini or dumb-init)', () => {
    const entrypoint = words(one('ENTRYPOINT').args);
    const init = entrypoint[0]!.split('/').at(-1)!;
    expect(['tini', 'dumb-init']).toContain(init);
    // Installed in the final stage, from the distribution's packages.
    expect(all('RUN').some((r) => /apt-get install\b.*\s(tini|dumb-init)(\s|$)/.test(r.args) && r.args.includes(init))).toBe(true);
    // The init process runs the gateway's command line; CMD picks the role.
    expect(entrypoint.slice(1)).toEqual(expect.arrayContaining(['node', 'bin/mragw.js']));
    expect(words(one('CMD').args)).toEqual(['start']);
  });

  it('checks health by requesting /readyz with Node (a slim image has no curl)', () => {
    const healthcheck = one('HEALTHCHECK').args;
    const command = words(healthcheck.slice(healthcheck.indexOf('CMD') + 3));
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toMatch(/fetch\(.*\/readyz/);
    expect(healthcheck).not.toMatch(/\b(curl|wget)\b/);
  });

  it('copies the pages (web/) and everything else it names, all of which exist', () => {
    const copies = all('COPY').filter((c) => !c.args.includes('--from='));
    const sources = copies.flatMap((c) => words(c.args).slice(0, -1));
    expect(sources).toContain('web');
    for (const source of [...sources, ...stages[0]!.filter((i) => i.keyword === 'COPY').flatMap((c) => words(c.args).slice(0, -1))]) expect(existsSync(new URL(source, root)), `${source} exists`).toBe(true);
  });

  it('never sends the secrets folder into the build context', () => {
    expect(read('.dockerignore').split('\n').map((l) => l.trim())).toContain('secrets');
  });
});

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string> | string[];
  secrets?: (string | { source: string; target?: string })[];
  deploy?: { replicas?: number };
  healthcheck?: { test?: string | string[] };
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: (string | { source?: string })[];
}
interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string }>;
  volumes?: Record<string, unknown>;
}

describe('compose.yaml', () => {
  const compose = parse(read('compose.yaml')) as Compose;
  const service = (name: string) => {
    const s = compose.services[name];
    expect(s, `service ${name}`).toBeDefined();
    return s!;
  };
  const command = (s: Service) => (typeof s.command === 'string' ? s.command.split(/\s+/) : (s.command ?? []));
  const env = (s: Service): Record<string, string> =>
    Array.isArray(s.environment) ? Object.fromEntries(s.environment.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) : Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
  const healthTest = (s: Service) => (Array.isArray(s.healthcheck?.test) ? s.healthcheck.test.join(' ') : (s.healthcheck?.test ?? ''));

  it('has the four services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
  });

  it('runs the HTTP API as `serve`, two replicas listening on every address, and the workers as `work`', () => {
    const api = service('api');
    expect(command(api)).toContain('serve');
    expect(api.deploy?.replicas).toBe(2);
    expect(env(api)['HOST']).toBe('0.0.0.0');
    expect(command(service('worker'))).toContain('work');
    expect(command(service('worker'))).not.toContain('serve');
  });

  it.each(['api', 'worker'])('gives %s the store, Redis, and the shared signing key as a declared file secret', (name) => {
    const s = service(name);
    const e = env(s);
    expect(e['DATABASE_URL']).toMatch(/^postgres(ql)?:\/\/[^@]*@postgres(:\d+)?\//);
    expect(e['REDIS_URL']).toMatch(/^redis:\/\/redis(:\d+)?/);
    const [, secret] = /^\/run\/secrets\/([A-Za-z0-9_.-]+)$/.exec(e['SIGNING_KEY_FILE'] ?? '') ?? [];
    expect(secret, 'SIGNING_KEY_FILE names a file under /run/secrets').toBeDefined();
    const mounted = (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : (x.target ?? x.source)));
    expect(mounted).toContain(secret);
    expect(compose.secrets?.[secret!]?.file, `secret ${secret} is declared with a file`).toEqual(expect.any(String));
  });

  it('runs Redis with the append-only file on and no eviction, its data in a volume', () => {
    const redis = service('redis');
    const args = command(redis).join(' ');
    expect(args).toMatch(/--appendonly yes\b/);
    expect(args).toMatch(/--maxmemory-policy noeviction\b/);
    expect(healthTest(redis)).toMatch(/redis-cli ping/);
  });

  it('runs the official PostgreSQL image, checked with pg_isready', () => {
    const postgres = service('postgres');
    expect(postgres.image).toMatch(/^postgres:\d+/);
    expect(healthTest(postgres)).toMatch(/pg_isready/);
  });

  it.each(['redis', 'postgres'])('keeps the data of %s in a declared named volume', (name) => {
    const named = (service(name).volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0]! : (v.source ?? ''))).filter((v) => !v.startsWith('.') && !v.startsWith('/'));
    expect(named.length).toBeGreaterThan(0);
    for (const volume of named) expect(Object.keys(compose.volumes ?? {})).toContain(volume);
  });

  it('health-checks every service; the API on /readyz', () => {
    for (const [name, s] of Object.entries(compose.services)) expect(healthTest(s), `${name} has a health check`).not.toBe('');
    expect(healthTest(service('api'))).toMatch(/\/readyz/);
  });

  it.each(['api', 'worker'])('starts %s only once Redis and PostgreSQL are healthy', (name) => {
    const depends = service(name).depends_on;
    expect(Array.isArray(depends), 'depends_on in the long form, with conditions').toBe(false);
    for (const dependency of ['redis', 'postgres']) expect((depends as Record<string, { condition?: string }>)[dependency]?.condition).toBe('service_healthy');
  });
});
