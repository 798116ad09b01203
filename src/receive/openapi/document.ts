/**
 * The OpenAPI 3.1 document served at `/openapi.json`, built from the operation catalogue
 * (operations.ts) and the zod schemas the routes validate with: zod 4's own
 * `z.toJSONSchema` writes JSON Schema 2020-12, the dialect of OpenAPI 3.1, so no
 * converter library stands between the code and its description. Requests are described
 * as the client writes them (zod's input side: a member with a default is optional),
 * answers as the gateway writes them (the output side).
 */
import { z } from 'zod';
import { operations as catalogue, type Access, type Operation } from './operations.ts';
import { Problem } from './schemas.ts';

type Json = Record<string, unknown>;

/** The JSON Schema of `schema`, for requests ('input') or answers ('output'), without its `$schema`. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  return rest;
}

const problemRef = { $ref: '#/components/schemas/Problem' };

function security(access: readonly Access[]): Json[] {
  return access.map((a) => (a.kind === 'anonymous' ? {} : a.kind === 'partner' ? { partnerSignature: [] } : { staffBearer: [...a.roles] }));
}

function accessNote(access: readonly Access[]): string {
  const words = access.map((a) => (a.kind === 'anonymous' ? 'anyone' : a.kind === 'partner' ? 'a partner signing per PROTOCOL §2' : `staff with the role ${a.roles.join(' or ')}`));
  return `Who may call: ${words.join('; or ')}.`;
}

/** A query example as its schema types it (`'20'` → `20`), so that it validates against the parameter's JSON Schema too. */
function typedExample(schema: z.ZodObject, name: string, raw: string): unknown {
  const member = schema.shape[name] as z.ZodType | undefined;
  const parsed = member?.safeParse(raw);
  return parsed?.success === true ? parsed.data : raw;
}

function parameters(op: Operation): Json[] {
  const inPath = Object.entries(op.params ?? {}).map(([name, p]) => ({ name, in: 'path', required: true, description: p.description, schema: jsonSchemaOf(p.schema, 'input'), example: p.example }));
  const query = op.query;
  if (query === undefined) return inPath;
  const whole = jsonSchemaOf(query.schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  const inQuery = Object.entries(whole.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: 'query',
      required: whole.required?.includes(name) ?? false,
      ...(typeof description === 'string' && { description }),
      schema: rest,
      ...(query.example[name] !== undefined && { example: typedExample(query.schema, name, query.example[name]) }),
    };
  });
  return [...inPath, ...inQuery];
}

function requestBody(op: Operation): Json | undefined {
  const body = op.body;
  if (body === undefined) return undefined;
  if (body.kind === 'json') return { required: body.optional !== true, content: { 'application/json': { schema: jsonSchemaOf(body.schema, 'input'), examples: { example: { value: body.example } } } } };
  const content = Object.fromEntries(
    body.mediaTypes.map((mediaType, i) => [mediaType, { schema: { type: 'string', contentMediaType: mediaType }, ...(i === 0 && { examples: { [body.exampleFormat]: { value: body.example } } }) }]),
  );
  return { required: true, description: body.description, content };
}

function responses(op: Operation): Json {
  const answers = Object.entries(op.answers).map(([status, a]) => {
    const headers = a.headers && Object.fromEntries(Object.entries(a.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
    const body = a.body;
    const content =
      body === undefined
        ? undefined
        : { [body.mediaType]: body.schema === undefined ? { schema: { type: 'string', contentEncoding: 'binary' } } : { schema: jsonSchemaOf(body.schema, 'output'), ...(body.example !== undefined && { examples: { example: { value: body.example } } }) } };
    return [status, { description: a.description, ...(headers && { headers }), ...(content && { content }) }];
  });
  const problems = Object.entries(op.problems).map(([status, description]) => {
    const headers: Json = {};
    if (status === '401') headers['WWW-Authenticate'] = { description: '`JWS-Signature` for a signed request, `Bearer` (RFC 6750) for a staff token.', schema: { type: 'string' } };
    if (status === '429' || status === '503') headers['Retry-After'] = { description: 'Seconds.', schema: { type: 'integer' } };
    return [status, { description, ...(Object.keys(headers).length > 0 && { headers }), content: { 'application/problem+json': { schema: problemRef } } }];
  });
  return Object.fromEntries([...answers, ...problems, ['500', { description: 'The gateway failed (`urn:mra:problem:internal`, without details, with a `requestId` to quote).', content: { 'application/problem+json': { schema: problemRef } } }]]);
}

/** The OpenAPI 3.1 document of `operations` for a gateway under `basePath` (PUBLIC_BASE_PATH). */
export function openApiDocument(options: { basePath: string }, operations: readonly Operation[] = catalogue): Json {
  const paths: Record<string, Json> = {};
  for (const op of operations) {
    const item = (paths[op.path] ??= {});
    const body = requestBody(op);
    item[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      description: [op.description, accessNote(op.access)].filter(Boolean).join('\n\n'),
      tags: [op.tag],
      security: security(op.access),
      parameters: parameters(op),
      ...(body && { requestBody: body }),
      responses: responses(op),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'MRA gateway',
      version: '1',
      summary: "The exchange point between U.S. CBP's C-TPAT programme and the customs administrations it has Mutual Recognition Arrangements with.",
      description: 'Partners follow the MRA exchange protocol, version 1 (PROTOCOL.md): signed requests (§2), documents in (§3), receipts (§4), reading back and status (§5), problem+json errors (§8). The staff API takes bearer tokens of the staff identity provider.',
    },
    servers: [{ url: options.basePath || '/' }],
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [
      { name: 'partners', description: 'Documents from partner administrations (PROTOCOL §3–§5).' },
      { name: 'status', description: 'The status of one subject (PROTOCOL §5).' },
      { name: 'staff', description: 'The staff API: discrepancies, held batches, the benefit feed, the registry, C-TPAT imports, what staff read.' },
      { name: 'delivery', description: 'Outbound delivery to partners (PROTOCOL §7).' },
      { name: 'gateway', description: 'Health, keys and this description.' },
    ],
    paths,
    components: {
      schemas: { Problem: jsonSchemaOf(Problem, 'output') },
      securitySchemes: {
        partnerSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'JWS-Signature',
          description:
            'PROTOCOL §2: a JWS in compact serialization with a detached, unencoded payload (RFC 7515 appendix F, RFC 7797) over the request body exactly as sent (empty for a GET), `BASE64URL(protected-header)..BASE64URL(signature)`, signed with a key of the partner\'s registered set. The protected header holds `alg`, `kid`, `b64: false`, `crit`, `iss`, `aud`, `iat`, `jti`, `htm` and `htu` (the path and query after PUBLIC_BASE_PATH). Not a key: a fresh signature per request.',
        },
        staffBearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT of the staff identity provider carrying roles: `reviewer` reads everything and decides discrepancies; `admin` also imports C-TPAT members, releases held batches and acts on deliveries; `feed-reader` reads the benefit feed only. Each operation lists the roles it accepts in its security requirement.',
        },
      },
    },
  };
}
