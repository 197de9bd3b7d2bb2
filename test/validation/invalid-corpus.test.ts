/**
 * The invalid corpus: test/fixtures/invalid/ holds one realistic user mistake per file, each file otherwise
 * valid. The table pins, for every file, the exact error findings as `line:col field message`, so a finding
 * that moves, changes its wording or disappears (or a new one that appears) fails here.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { typeRules } from '../../src/connectors/registry.js';
import type { Diagnostic } from '../../src/validation/diagnostics.js';
import { validatePaths } from '../../src/validation/validate.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** As a user types it: relative to the working directory (the repository root under vitest). */
const fixturesDir = relative(process.cwd(), join(repoRoot, 'test', 'fixtures', 'invalid'));
const display = (file: string): string => relative(fixturesDir, file);
const finding = (d: Diagnostic): string => `${d.line}:${d.col} ${d.field} ${d.message}`;
const errorsOf = (ds: readonly Diagnostic[]): Diagnostic[] => ds.filter((d) => d.severity === 'error');

/**
 * Every fixture and its exact error findings, in the order the validator sorts them (line, column).
 * Two messages name the file by the path it was opened with, not by its display name: 25 (duplicate
 * name) and 47 (script path). Their expected text is built from fixturesDir.
 */
const CORPUS: Record<string, string[]> = {
  '01-enum-typo-usage.yaml': [
    '22:10 spec.usage must be one of scheduled, event, authentication, not "schedule" (did you mean "scheduled"?)',
  ],
  '02-enum-typo-connector-type.yaml': [
    '8:9 spec.type must be one of rest, m42, msgraph, scim, ldap, script, not "rset" (did you mean "rest"?)',
  ],
  '03-enum-typo-pagination-type.yaml': [
    '15:13 spec.rest.pagination.type must be one of none, startOffset, pageIncrement, linkToken, linkAttributeToken, not "pageincrement" (did you mean "pageIncrement"?)',
  ],
  '04-typo-field-baseURL.yaml': [
    '9:3 spec.rest.baseUrl is required',
    '10:5 spec.rest.baseURL unknown field "baseURL" (did you mean "baseUrl"?)',
  ],
  '05-typo-field-connectorref.yaml': [
    '21:1 spec.connectorRef is required',
    '22:3 spec.connectorref unknown field "connectorref" (did you mean "connectorRef"?)',
  ],
  '06-indent-pagination-at-spec-level.yaml': [
    '14:3 spec.pagination unknown field "pagination" here: it belongs under rest (indent it one level deeper, under rest:)',
  ],
  '07-indent-block-content-not-indented.yaml': [
    '23:3 spec.schedule must be a map, not null (is the block empty or its content not indented under it?)',
    '24:3 spec.cron unknown field "cron" here: it belongs under schedule (indent it one level deeper, under schedule:)',
  ],
  '08-number-as-string-pagesize.yaml': [
    '18:17 spec.rest.pagination.pageSize must be an integer, not string "100" (remove the quotes)',
  ],
  '09-boolean-as-string.yaml': [
    '9:12 spec.suspend must be a boolean, not string "true" (write true or false without quotes)',
  ],
  '10-missing-unique-mapping.yaml': [
    '33:7 spec.mappings.generic.attributes exactly one attribute must be marked unique: true',
  ],
  '11-two-unique-mappings.yaml': [
    '33:7 spec.mappings.generic.attributes exactly one attribute must be marked unique: true',
  ],
  '12-interval-bad-unit.yaml': [
    '24:15 spec.schedule.interval must be a duration greater than zero, such as 30s, 5m, 2h or 1h30m (units ms, s, m, h, d)',
  ],
  '13-cron-six-fields.yaml': [
    '24:11 spec.schedule.cron must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), such as */30 * * * *',
  ],
  '14-cron-minute-61.yaml': ['24:11 spec.schedule.cron invalid cron "61 6 * * 1-5": Invalid value for minute: 61'],
  '15-unknown-time-zone.yaml': [
    '25:15 spec.schedule.timeZone unknown time zone "Europe/Helsinky"; use an IANA name such as Europe/Helsinki or UTC',
  ],
  '16-time-zone-with-interval.yaml': ['25:5 spec.schedule.timeZone timeZone is only used with cron'],
  '17-cron-and-interval.yaml': ['23:3 spec.schedule set exactly one of cron or interval'],
  '18-yaml-tab-indentation.yaml': ['10:1 (yaml) invalid YAML: tabs are not allowed as indentation'],
  '19-yaml-unclosed-quote.yaml': ['36:1 (yaml) invalid YAML: missing closing "quote'],
  '20-yaml-duplicate-key.yaml': [
    '16:5 (yaml) invalid YAML: map keys must be unique ("auth" is set twice in the same map)',
  ],
  '21-unknown-api-version.yaml': [
    '2:13 apiVersion unknown apiVersion "provisio.dev/v1": Provisio resources use provisio.dev/v1alpha1',
  ],
  '22-unknown-kind.yaml': ['3:7 kind unknown kind "Conector": expected Connector or Task (did you mean "Connector"?)'],
  '23-missing-metadata-name.yaml': ['4:1 metadata.name is required'],
  '24-invalid-name-upper-case.yaml': [
    "18:9 metadata.name must be a lower-case name of letters, digits and '-' that starts and ends with a letter or digit (such as hr-api)",
  ],
  '25-duplicate-name.yaml': [
    '39:9 metadata.name duplicate Task "iga-25/hr-employees": already defined at 25-duplicate-name.yaml:15',
  ],
  '26-connector-ref-missing.yaml': [
    '21:24 spec.connectorRef.name Connector "hr-ap" not found in namespace "iga-26" (did you mean "hr-api"?)',
  ],
  '27-authentication-task-on-scim.yaml': [
    '22:10 spec.usage Connector "workforce-idp" is of type scim, which supports scheduled and event tasks, not authentication',
  ],
  '28-source-block-wrong-type.yaml': [
    '28:5 spec.source.rest source block "rest" does not match Connector "entra-id" of type msgraph; use source.msgraph',
  ],
  '29-incremental-on-rest.yaml': [
    '25:10 spec.fetch Connector "hr-api" is of type rest, which cannot fetch incrementally; use fetch: full',
  ],
  '30-deletion-confirm-runs-zero.yaml': ['30:18 spec.deletion.confirmRuns must be >= 1, not 0'],
  '31-mappings-block-mismatch.yaml': [
    '30:3 spec.mappings mappingsType identity and identityAndAccess need a mappings.identity block (users)',
    '30:3 spec.mappings mappingsType access and identityAndAccess need a mappings.access block (groups)',
    '31:5 spec.mappings.generic mappings.generic is only allowed with mappingsType generic',
  ],
  '32-mapping-path-dollar.yaml': [
    '35:22 spec.mappings.generic.attributes[1].external "$.department.name": write mapping paths without $. (for example department.name)',
  ],
  '33-mapping-path-bad-bracket.yaml': [
    '35:22 spec.mappings.generic.attributes[1].external "name[first-name]": [first-name] must be a quoted name such as [\'first-name\'] or an index such as [0]',
  ],
  '34-subquery-prefix-unknown.yaml': [
    '37:22 spec.mappings.generic.attributes[1].external "/employee/{id}/groups.0.name": starts with / but names no subquery of this task (subqueries: /employees/{id}/groups)',
  ],
  '35-subquery-placeholder-two-levels.yaml': [
    '30:11 spec.source.rest.subqueries[1] subquery "/departments/{department.id}/cost-center": {department.id} reaches more than one level; subqueries may only use first-level attributes of the main record, such as {id}',
  ],
  '36-subquery-empty-placeholder.yaml': [
    '30:11 spec.source.rest.subqueries[1] subquery "/employees/{}/manager" has an empty placeholder {}',
  ],
  '37-subquery-unbalanced-brace.yaml': [
    '30:11 spec.source.rest.subqueries[1] subquery "/employees/{id/manager" has unbalanced { }: write placeholders as {attribute}',
  ],
  '38-header-auth-without-header-name.yaml': [
    '11:5 spec.rest.auth.headerName headerName is required when auth type is header',
  ],
  '39-dynamic-token-without-block.yaml': [
    '11:5 spec.rest.auth.dynamicToken dynamicToken is required when auth type is dynamicToken',
  ],
  '40-link-token-without-link.yaml': [
    '15:5 spec.rest.pagination.nextLinkPath linkToken paging needs nextLinkPath or linkHeader: true',
  ],
  '41-rest-type-with-m42-block.yaml': [
    '7:1 spec.rest type rest needs its settings in a rest block',
    '9:3 spec.m42 an m42 block is only allowed when type is m42',
  ],
  '42-missing-base-url.yaml': ['10:3 spec.rest.baseUrl is required'],
  '43-base-url-without-scheme.yaml': ['10:14 spec.rest.baseUrl must be an absolute http:// or https:// URL'],
  '44-scheduled-without-schedule.yaml': ['20:1 spec.schedule scheduled tasks need a schedule'],
  '45-event-task-with-schedule.yaml': ['23:3 spec.schedule only scheduled tasks have a schedule'],
  '46-script-path-and-config-map.yaml': ['10:5 spec.script.source set exactly one of path or configMapRef'],
  '47-script-path-missing-file.yaml': [
    '11:13 spec.script.source.path script file "scripts/hr-sync.py" not found (paths are relative to the folder of 47-script-path-missing-file.yaml)',
  ],
  '48-max-fraction-above-one.yaml': ['38:18 spec.deletion.maxFraction must be <= 1, not 1.5'],
  '49-cache-clear-at-24.yaml': ['36:24 spec.cache.clearAt[1] must be a time of day HH:MM, such as 00:00 or 13:30'],
  '50-ldap-url-https.yaml': ['10:10 spec.ldap.url must be an ldap:// or ldaps:// URL such as ldaps://dc1.example.org'],
  '51-duplicate-local-attribute.yaml': [
    '37:45 spec.mappings.identity.attributes[3].local local attribute "email" is already mapped by attributes[2]',
  ],
  '52-document-is-a-list.yaml': ['2:1 (document) a resource must be a map with apiVersion, kind, metadata and spec'],
  '53-ondeleted-without-task-id.yaml': [
    "30:5 spec.mappings.generic.taskIdAttribute onDeleted needs taskIdAttribute: deletion marking only touches cards stamped with this task's id",
  ],
  '54-unquoted-braces-in-flow-mapping.yaml': [
    '37:29 (yaml) invalid YAML: unexpected flow-map-start at node end (inside [ ] or { }, quote values that contain { } [ ] , or :, such as "/users/{id}/groups")',
  ],
  '55-task-without-namespace.yaml': [
    '20:24 spec.connectorRef.name Connector "hr-api" not found in namespace "default"',
  ],
  '56-identity-mappings-on-rest.yaml': [
    '23:17 spec.mappingsType Connector "hr-api" of type rest loads generic mappings, not identity',
  ],
  '57-inline-password.yaml': [
    '13:5 spec.ldap.password unknown field "password": secrets are never written inline; put the value in the Secret that secretRef names',
  ],
  '58-local-attribute-with-space.yaml': [
    "38:18 spec.mappings.generic.attributes[1].local must be an attribute name of letters, digits, '_', '.' and '-', starting with a letter or '_'",
  ],
  '59-task-id-attribute-also-mapped.yaml': [
    '33:24 spec.mappings.generic.taskIdAttribute "source_id" is also mapped from the source (attributes[1]); the taskIdAttribute needs an attribute of its own',
  ],
  '60-scim-host-with-scheme.yaml': [
    '10:11 spec.scim.host must be a host name without scheme, port or path (such as scim.example.com)',
  ],
  '61-dynamic-token-without-token-path.yaml': ['14:7 spec.rest.auth.dynamicToken.tokenPath is required'],
  '62-pagination-parameters-of-another-type.yaml': [
    '14:5 spec.rest.pagination pageParam, sizeParam and firstPage are only used by pageIncrement paging',
  ],
  '63-subquery-without-leading-slash.yaml': [
    '29:11 spec.source.rest.subqueries[0] subquery "employees/{id}/groups" must be a path starting with /',
  ],
  '64-event-task-without-event-block.yaml': ['20:1 spec.event event tasks need an event block'],
  '65-authentication-task-on-rest.yaml': [
    '22:10 spec.usage Connector "hr-api" is of type rest, which supports scheduled and event tasks, not authentication',
  ],
  '66-mapping-path-key-with-space.yaml': [
    '35:22 spec.mappings.generic.attributes[1].external "finance.cost center": "cost center" has characters that need bracket notation, such as [\'cost center\']',
  ],
  '67-subquery-dollar-placeholder.yaml': [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the message quotes ${...} as the user wrote it
    '29:11 spec.source.rest.subqueries[0] subquery "/employees/${id}/groups" uses ${...} or $...$; subquery placeholders are written {attribute}',
  ],
  '68-inline-webapi-credentials.yaml': [
    '9:3 spec.webApi.secretRef is required',
    '10:5 spec.webApi.username unknown field "username" (allowed: secretRef)',
    '11:5 spec.webApi.password unknown field "password": secrets are never written inline; put the value in the Secret that secretRef names',
  ],
  '69-interval-zero.yaml': [
    '24:15 spec.schedule.interval must be a duration greater than zero, such as 30s, 5m, 2h or 1h30m (units ms, s, m, h, d)',
  ],
  '70-timeout-zero.yaml': [
    '23:12 spec.timeout must be a duration greater than zero, such as 30s, 5m, 2h or 1h30m (units ms, s, m, h, d)',
  ],
  '71-metadata-labelz.yaml': ['7:3 metadata.labelz unknown field "labelz" (did you mean "labels"?)'],
  '72-inline-credentials-in-headers.yaml': [
    '13:7 spec.rest.headers.Authorization header "Authorization" holds a credential written inline; secrets are never written in resources: remove the header, set auth: {type: bearer, secretRef: {name: <secret>}} and put the token under key token in that Secret',
    '14:7 spec.rest.headers.X-Api-Key header "X-Api-Key" holds a credential written inline; secrets are never written in resources: remove the header, set auth: {type: header, headerName: X-Api-Key, secretRef: {name: <secret>}} and put the header value under key value in that Secret',
    '15:7 spec.rest.headers.X-Forwarded-Auth header "X-Forwarded-Auth" holds a credential written inline; secrets are never written in resources: remove the header, set auth: {type: header, headerName: X-Forwarded-Auth, secretRef: {name: <secret>}} and put the header value under key value in that Secret',
  ],
  '73-credentials-in-url-userinfo.yaml': [
    '10:14 spec.rest.baseUrl the URL holds credentials in its user info (user:password@host); secrets are never written in resources: remove them from the URL, set auth: {type: basic, secretRef: {name: <secret>}} and put keys username and password in that Secret',
  ],
  '74-subquery-two-variables.yaml': [
    '30:11 spec.source.rest.subqueries[1] subquery "/people/{id}/groups/{groupId}/members" has 2 variables ({id}, {groupId}); one level of subquery takes one variable of the main record',
  ],
  '75-inline-credential-in-task-headers.yaml': [
    '31:17 spec.source.rest.headers.X-Session-Token header "X-Session-Token" holds a credential written inline; secrets are never written in resources: remove the header and, on the task\'s Connector, set auth: {type: header, headerName: X-Session-Token, secretRef: {name: <secret>}} and put the header value under key value in that Secret',
  ],
  '76-encoded-dot-segments-in-event-query.yaml': [
    '24:12 spec.event.query contains %2F (an encoded "/") in its path; an encoded dot or slash can lead out of the connector\'s base path once a server decodes it (such as /..%2f..%2foauth/token): write the path plainly',
  ],
};

/** The credentials the fixtures write inline: no finding may repeat them. */
const INLINE_CREDENTIALS: Record<string, string[]> = {
  '72-inline-credentials-in-headers.yaml': ['eyJhbGciOiJIUzI1NiJ9', 'k-2f9a1c77e0', 'YWRtaW46cHc='],
  '73-credentials-in-url-userinfo.yaml': ['s3cr3t-pw', 'admin'],
  '75-inline-credential-in-task-headers.yaml': ['abc123def456'],
};

/** Runs the CLI from the repository root without any secrets configuration. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVISIO_SECRET')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: repoRoot, env },
      (error, stdout, stderr) => {
        const code = error ? Number((error as NodeJS.ErrnoException & { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('invalid corpus (test/fixtures/invalid)', () => {
  const files = readdirSync(join(repoRoot, 'test', 'fixtures', 'invalid'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  it('pins every fixture file, and there are at least 45', () => {
    expect(Object.keys(CORPUS).sort()).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(45);
  });

  it.each(Object.entries(CORPUS))('%s', async (file, expected) => {
    const result = await validatePaths([join(fixturesDir, file)], { types: typeRules, display });
    expect(result.files).toBe(1);
    const errors = errorsOf(result.diagnostics);
    expect(errors.map(finding)).toEqual(expected);
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors.map((d) => d.file))).toEqual(new Set([file]));
    // No secrets resolver: nothing else is reported.
    expect(result.diagnostics).toHaveLength(errors.length);
  });

  it.each(Object.entries(INLINE_CREDENTIALS))('%s: no finding repeats the inline credential', async (file, values) => {
    const result = await validatePaths([join(fixturesDir, file)], { types: typeRules, display });
    const text = result.diagnostics.map((d) => `${d.field} ${d.message}`).join('\n');
    expect(result.diagnostics.length).toBeGreaterThan(0);
    for (const v of values) expect(text).not.toContain(v);
  });

  it("reports every file's findings when the whole directory is validated at once", async () => {
    const result = await validatePaths([fixturesDir], { types: typeRules, display });
    expect(result.files).toBe(files.length);
    // Validated together, a missing Connector may sit in one of the files that do not parse, and the
    // finding says so; the rest of each finding is the same as when the file is validated alone.
    const unparsedHint =
      '; it may be declared in a file that is not valid YAML: 18-yaml-tab-indentation.yaml:10, ' +
      '19-yaml-unclosed-quote.yaml:36, 20-yaml-duplicate-key.yaml:16, 54-unquoted-braces-in-flow-mapping.yaml:37';
    const hinted = errorsOf(result.diagnostics).filter((d) => d.message.endsWith(unparsedHint));
    expect(hinted.map((d) => d.file).sort()).toEqual([
      '26-connector-ref-missing.yaml',
      '55-task-without-namespace.yaml',
    ]);
    const all = errorsOf(result.diagnostics)
      .map((d) => `${d.file} ${finding(d)}`.replace(unparsedHint, ''))
      .sort();
    const union = Object.entries(CORPUS)
      .flatMap(([file, expected]) => expected.map((f) => `${file} ${f}`))
      .sort();
    expect(all).toEqual(union);
  });

  it('the CLI prints file:line:col  field  message and exits 1', async () => {
    const { code, stdout, stderr } = await cli(['validate', 'test/fixtures/invalid/02-enum-typo-connector-type.yaml']);
    expect(code).toBe(1);
    expect(stdout).toBe(
      'test/fixtures/invalid/02-enum-typo-connector-type.yaml:8:9  spec.type  ' +
        'must be one of rest, m42, msgraph, scim, ldap, script, not "rset" (did you mean "rest"?)\n',
    );
    expect(stderr).toMatch(/^1 resources in 1 files: 1 errors, 0 warnings \(\d+ ms\)\n$/);
  });

  it('the CLI prints the findings as JSON with -o json', async () => {
    const file = 'test/fixtures/invalid/26-connector-ref-missing.yaml';
    const { code, stdout } = await cli(['validate', '-o', 'json', file]);
    expect(code).toBe(1);
    const body = JSON.parse(stdout) as Record<string, unknown>;
    expect(body).toEqual({
      ok: false,
      files: 1,
      resources: [
        { kind: 'Connector', namespace: 'iga-26', name: 'hr-api', file, valid: true },
        { kind: 'Task', namespace: 'iga-26', name: 'hr-employees', file, valid: false },
      ],
      errors: [
        {
          file,
          line: 21,
          col: 24,
          field: 'spec.connectorRef.name',
          message: 'Connector "hr-ap" not found in namespace "iga-26" (did you mean "hr-api"?)',
          resource: 'Task iga-26/hr-employees',
        },
      ],
      warnings: [
        expect.objectContaining({
          file,
          line: 13,
          col: 25,
          field: 'spec.rest.auth.secretRef.name',
          message: expect.stringContaining('secret "hr-api-token" cannot be resolved'),
          resource: 'Connector iga-26/hr-api',
        }),
      ],
    });
  });
});
