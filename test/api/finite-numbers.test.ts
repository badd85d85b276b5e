// ajv turns "1e309", "-1e309" and "Infinity" in a path or query parameter
// into ±Infinity and then skips its range checks on it: each such value
// reached the database and answered 500 (found by the live API fuzzer). Every
// integer parameter of every route in the OpenAPI document must answer 400
// naming the parameter instead.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type Api, startApi } from './harness.ts';

interface Param {
  in: string;
  name: string;
  schema?: { type?: string | string[] };
}

const doc = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { parameters?: Param[] }>>;
};
const cases = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).flatMap(([method, op]) =>
    (op.parameters ?? [])
      .filter((p) => [p.schema?.type].flat().some((t) => t === 'integer' || t === 'number'))
      .map((p) => ({ method: method.toUpperCase(), path, param: p })),
  ),
);

let api: Api;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

test('the document has integer path and query parameters to try', () => {
  assert.ok(cases.length >= 5, `${cases.length} integer parameters`);
});

for (const { method, path, param } of cases) {
  test(`${method} ${path}: ${param.in} parameter ${param.name} refuses non-finite numbers with 400`, async () => {
    for (const bad of ['1e309', '-1e309', 'Infinity', '-Infinity']) {
      const value = encodeURIComponent(bad);
      const url =
        param.in === 'path'
          ? path.replace(`{${param.name}}`, value).replace(/\{[^}]+\}/g, 'x')
          : `${path.replace(/\{[^}]+\}/g, 'x')}?${param.name}=${value}`;
      const r = await api.req(method, url);
      assert.equal(r.status, 400, `${method} ${url}: ${r.body}`);
      assert.equal(r.json.error.code, 'PC_ERR_VALIDATION');
      assert.ok(
        r.json.error.fields.some((f: { field: string }) => f.field === param.name),
        `names ${param.name}: ${r.body}`,
      );
    }
  });
}
