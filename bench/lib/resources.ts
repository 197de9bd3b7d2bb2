/**
 * A realistic resource tree for the validate benchmark: Connectors of every scheduled-capable type with
 * the Tasks that use them, written the way admins write them (comments, flow maps for attribute lists,
 * quoted cron expressions), spread over namespaces and multi-document files. All valid: every secret they
 * reference is created in a secrets directory too, so validation reports no error and no warning.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GeneratedTree {
  dir: string;
  secretsDir: string;
  files: number;
  connectors: number;
  tasks: number;
  bytes: number;
}

const SYSTEMS = ['hr', 'crm', 'erp', 'lms', 'itam', 'payroll', 'badge', 'wiki', 'git', 'ticketing', 'fleet', 'travel'];
const ZONES = ['Europe/Helsinki', 'Europe/Stockholm', 'Europe/Berlin', 'UTC', 'America/New_York'];

/** A `${key}` placeholder of a dynamic-token login, as the resource spells it. */
const ref = (key: string): string => `$\{${key}}`;

interface Pair {
  connector: string;
  task: string;
  secrets: string[];
}

function restPair(c: number, ns: string): Pair {
  const sys = SYSTEMS[c % SYSTEMS.length];
  const name = `${sys}-api-${c}`;
  const secret = `${name}-credentials`;
  const auths = [
    `    auth: {type: none}`,
    `    auth:\n      type: basic\n      secretRef: {name: ${secret}}        # keys username, password`,
    `    auth:\n      type: bearer\n      secretRef: {name: ${secret}}        # key token`,
    `    auth:\n      type: header\n      headerName: X-Api-Key\n      secretRef: {name: ${secret}}        # key value`,
    [
      '    auth:',
      '      type: dynamicToken',
      `      secretRef: {name: ${secret}}        # keys client_id, client_secret`,
      '      dynamicToken:',
      `        loginUrl: https://login.${sys}${c}.example.com/oauth2/token`,
      '        contentType: application/x-www-form-urlencoded',
      `        body: grant_type=client_credentials&client_id=${ref('client_id')}&client_secret=${ref('client_secret')}`,
      '        tokenPath: access_token',
      '        expiresInPath: expires_in',
      `        header: {name: Authorization, value: "Bearer ${ref('token')}"}`,
    ].join('\n'),
  ];
  const pagings = [
    '    pagination: {type: pageIncrement, pageParam: page, sizeParam: size, firstPage: 1, pageSize: 200}',
    '    pagination:\n      type: startOffset\n      startParam: offset\n      limitParam: limit\n      pageSize: 500',
    '    pagination: {type: linkToken, nextLinkPath: links.next}',
    '    pagination: {type: linkToken, linkHeader: true}',
    '    pagination: {type: linkAttributeToken, tokenPath: nextPageToken, tokenParam: pageToken}',
  ];
  const authIndex = c % auths.length;
  const connector = [
    'apiVersion: provisio.dev/v1alpha1',
    'kind: Connector',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${ns}`,
    '  labels:',
    '    app.kubernetes.io/part-of: iga-connectors',
    'spec:',
    '  type: rest',
    `  description: ${sys.toUpperCase()} system ${c} - people and their entitlements`,
    '  webApi:',
    '    secretRef: {name: m42-webapi-loader}',
    '  rest:',
    `    baseUrl: https://${sys}${c}.example.com/api/v${1 + (c % 3)}`,
    '    headers:',
    `      X-Tenant: acme-${ns}`,
    '      Accept: application/json',
    '    timeout: 45s',
    auths[authIndex],
    pagings[c % pagings.length],
  ].join('\n');
  const event = c % 5 === 4;
  const task = event
    ? [
        'apiVersion: provisio.dev/v1alpha1',
        'kind: Task',
        'metadata:',
        `  name: ${name}-update`,
        `  namespace: ${ns}`,
        'spec:',
        `  connectorRef: {name: ${name}}`,
        '  usage: event',
        '  mappingsType: generic',
        '  description: "employee:Update - workflows write phone, title and end date back"',
        '  event:',
        '    query: /employees',
        '    headers:',
        '      X-Request-Source: provisio-workflow',
        '    dateFormat: yyyy-MM-dd',
        `    dateTimeFormat: "yyyy-MM-dd'T'HH:mm:ssXXX"`,
        '    timeout: 20s',
        '    maxConcurrency: 8',
        '  mappings:',
        '    generic:',
        '      template: employee',
        '      folder: employees',
        '      attributes:',
        '        - {external: id, local: employee_id}',
        '        - {external: phone, local: mobile_phone}',
        '        - {external: title, local: job_title}',
        '        - {external: endDate, local: end_date}',
      ].join('\n')
    : [
        'apiVersion: provisio.dev/v1alpha1',
        'kind: Task',
        'metadata:',
        `  name: ${name}-employees`,
        `  namespace: ${ns}`,
        'spec:',
        `  connectorRef: {name: ${name}}`,
        '  usage: scheduled',
        '  mappingsType: generic',
        '  description: Active employees with their primary group and manager',
        '  schedule:',
        c % 2 === 0
          ? `    cron: "${c % 60} 6-18/2 * * 1-5"\n    timeZone: ${ZONES[c % ZONES.length]}`
          : `    interval: ${15 + (c % 4) * 15}m`,
        '  fetch: full',
        '  timeout: 1h',
        '  source:',
        '    rest:',
        '      query: /employees?status=active',
        ...(c % 3 === 0
          ? ['      subqueries:', '        - /employees/{id}/groups', '        - /employees/{id}/manager']
          : []),
        '      headers:',
        '        X-Request-Source: provisio',
        '      valueMarker: resultset',
        '      errorMarker: errors',
        `      safetyThreshold: ${1000 + c}`,
        '      uniqueAttribute: id',
        '  mappings:',
        '    generic:',
        '      template: employee',
        '      folder: employees',
        '      dataSourceTypeAttribute: source_type',
        '      taskIdAttribute: task_id',
        '      onDeleted: {attribute: employment_status, value: Deleted}',
        '      attributes:',
        '        - {external: id, local: employee_id, unique: true}',
        `        - {external: "name['first-name']", local: first_name}`,
        `        - {external: "name['last-name']", local: last_name}`,
        '        - {external: emails.0.value, local: email}',
        '        - {external: department.code, local: department_code}',
        '        - {external: hireDate, local: hire_date}',
        '        - {external: costCenter, local: cost_center, default: "0000"}',
        ...(c % 3 === 0
          ? [
              '        - {external: "/employees/{id}/groups.0.name", local: primary_group}',
              '        - {external: "/employees/{id}/manager.id", local: manager_employee_id}',
            ]
          : []),
        '  deletion:',
        `    maxFraction: 0.${1 + (c % 3)}`,
        '  failure:',
        '    template: integration_failure',
        '    folder: integration_failures',
        '    attribute: message',
        '  cache:',
        '    clearAt: ["00:00", "12:00"]',
      ].join('\n');
  return { connector, task, secrets: authIndex === 0 ? [] : [secret] };
}

function msgraphPair(c: number, ns: string): Pair {
  const name = `entra-${c}`;
  const secret = `${name}-app`;
  const connector = `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  type: msgraph
  description: Entra ID tenant ${c}
  webApi:
    secretRef: {name: m42-webapi-loader}
  msgraph:
    tenantId: 5b3c1f0e-8a2d-4c6b-9e7f-${String(c).padStart(12, '0')}
    clientId: 0f9e8d7c-6b5a-4f3e-2d1c-${String(c).padStart(12, '0')}
    loginUrl: https://login.microsoftonline.com
    graphUrl: https://graph.microsoft.com
    auth:
      type: secret
      secretRef: {name: ${secret}}     # key clientSecret`;
  const task = `apiVersion: provisio.dev/v1alpha1
kind: Task
metadata:
  name: ${name}-accounts
  namespace: ${ns}
spec:
  connectorRef: {name: ${name}}
  usage: scheduled
  mappingsType: identityAndAccess
  description: Entra ID accounts and security groups, full read
  schedule:
    cron: "${c % 60} */4 * * *"
    timeZone: Europe/Helsinki
  fetch: full
  timeout: 90m
  source:
    msgraph:
      usersFilter: "accountEnabled eq true and endsWith(mail,'@acme${c}.example.com')"
      groupsFilter: "securityEnabled eq true and startsWith(displayName,'sg-')"
      headers:
        ConsistencyLevel: eventual
      excludedUsers:
        - breakglass-01@acme${c}.onmicrosoft.com
      excludedGroups:
        - sg-all-staff
  mappings:
    identity:
      template: iga_account
      folder: entra_accounts
      dataSourceTypeAttribute: source_type
      taskIdAttribute: task_id
      onDeleted: {attribute: accountStatus, value: Deleted}
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: userPrincipalName, local: user_principal_name}
        - {external: displayName, local: display_name}
        - {external: givenName, local: first_name}
        - {external: surname, local: last_name}
        - {external: mail, local: email}
        - {external: department, local: department}
        - {external: jobTitle, local: job_title}
        - {external: accountEnabled, local: account_enabled}
        - {external: memberOf, local: member_of}
    access:
      template: iga_entitlement
      folder: entra_groups
      dataSourceTypeAttribute: source_type
      taskIdAttribute: task_id
      onDeleted: {attribute: status, value: 5 - Removed}
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: displayName, local: display_name}
        - {external: description, local: description}
        - {external: securityEnabled, local: security_enabled}
  deletion:
    maxFraction: 0.05
  failure: {template: integration_failure, folder: integration_failures, attribute: message}`;
  return { connector, task, secrets: [secret] };
}

function scimPair(c: number, ns: string): Pair {
  const name = `idp-${c}`;
  const secret = `${name}-scim`;
  const connector = `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  type: scim
  description: Workforce IdP ${c} - users and groups over SCIM 2.0
  webApi:
    secretRef: {name: m42-webapi-loader}
  scim:
    host: idp${c}.example.com
    port: 443
    basePath: /scim/v2
    pageSize: 200
    tls:
      enabled: true
      caSecretRef: {name: corporate-root-ca, key: ca.crt}
    auth:
      type: basic
      secretRef: {name: ${secret}}`;
  const task = `apiVersion: provisio.dev/v1alpha1
kind: Task
metadata:
  name: ${name}-accounts
  namespace: ${ns}
spec:
  connectorRef: {name: ${name}}
  usage: scheduled
  mappingsType: identityAndAccess
  description: Active users and application groups, every hour
  schedule:
    interval: 1h
  source:
    scim:
      usersFilter: active eq true
      groupsFilter: displayName sw "app-"
  mappings:
    identity:
      template: iga_account
      folder: idp_accounts
      dataSourceTypeAttribute: source_type
      taskIdAttribute: task_id
      onDeleted: {attribute: accountStatus, value: Deleted}
      attributes:
        - {external: id, local: scim_id, unique: true}
        - {external: userName, local: user_name}
        - {external: name.givenName, local: first_name}
        - {external: name.familyName, local: last_name}
        - {external: emails.0.value, local: email}
        - {external: active, local: active}
        - {external: "['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].employeeNumber", local: employee_id}
        - {external: "groups[*].value", local: member_of}
    access:
      template: iga_entitlement
      folder: idp_groups
      dataSourceTypeAttribute: source_type
      taskIdAttribute: task_id
      onDeleted: {attribute: status, value: 5 - Removed}
      attributes:
        - {external: id, local: scim_id, unique: true}
        - {external: displayName, local: display_name}
        - {external: "members[*].value", local: members}
  deletion:
    maxFraction: 0.1
  failure: {template: integration_failure, folder: integration_failures, attribute: message}`;
  return { connector, task, secrets: [secret, 'corporate-root-ca'] };
}

function ldapPair(c: number, ns: string): Pair {
  const name = `ldap-${c}`;
  const secret = `${name}-bind`;
  const dc = `dc=site${c},dc=example,dc=org`;
  const connector = `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  type: ldap
  description: Directory of site ${c}
  webApi:
    secretRef: {name: m42-webapi-loader}
  ldap:
    url: ldaps://ldap${c}.example.org:636
    flavor: ${c % 2 === 0 ? 'openldap' : 'activeDirectory'}
    bindDn: cn=provisio-reader,ou=services,${dc}
    secretRef: {name: ${secret}}
    baseDn: ${dc}
    pageSize: 500
    timeout: 30s
    tls:
      caSecretRef: {name: corporate-root-ca}`;
  const task = `apiVersion: provisio.dev/v1alpha1
kind: Task
metadata:
  name: ${name}-accounts
  namespace: ${ns}
spec:
  connectorRef: {name: ${name}}
  usage: scheduled
  mappingsType: identityAndAccess
  description: Accounts and groups, every hour
  schedule:
    cron: "${c % 60} * * * *"
    timeZone: Europe/Helsinki
  source:
    ldap:
      usersBaseDn: ou=people,${dc}
      usersFilter: (&(objectClass=inetOrgPerson)(!(pwdAccountLockedTime=*)))
      groupsBaseDn: ou=groups,${dc}
      groupsFilter: (objectClass=groupOfNames)
  mappings:
    identity:
      template: iga_account
      folder: ldap_accounts
      dataSourceTypeAttribute: source_type
      taskIdAttribute: task_id
      onDeleted: {attribute: accountStatus, value: Deleted}
      attributes:
        - {external: entryUUID, local: entry_uuid, unique: true}
        - {external: uid, local: user_name}
        - {external: dn, local: distinguished_name}
        - {external: givenName, local: first_name}
        - {external: sn, local: last_name}
        - {external: mail, local: email}
        - {external: memberOf, local: member_of}
    access:
      template: iga_entitlement
      folder: ldap_groups
      dataSourceTypeAttribute: source_type
      taskIdAttribute: task_id
      onDeleted: {attribute: status, value: 5 - Removed}
      attributes:
        - {external: entryUUID, local: entry_uuid, unique: true}
        - {external: cn, local: display_name}
        - {external: member, local: members}`;
  return { connector, task, secrets: [secret, 'corporate-root-ca'] };
}

function m42Pair(c: number, ns: string): Pair {
  const name = `partner-itsm-${c}`;
  const secret = `${name}-api-user`;
  const connector = `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  type: m42
  description: Service partner ${c} ITSM - escalated incidents
  webApi:
    secretRef: {name: m42-webapi-loader}
  m42:
    baseUrl: https://itsm${c}.partner.example.net/rest-api/itsm/v1
    secretRef: {name: ${secret}}
    timeout: 30s`;
  const task = `apiVersion: provisio.dev/v1alpha1
kind: Task
metadata:
  name: ${name}-resolved
  namespace: ${ns}
spec:
  connectorRef: {name: ${name}}
  usage: scheduled
  mappingsType: generic
  description: Incidents the partner has resolved, every 15 minutes
  schedule:
    interval: 15m
  source:
    m42:
      templateCode: incident
      folderCode: escalated_from_acme
      filter: "$status$ = '07 - Resolved' AND $origin_system$ = 'acme' AND entity.deleted = 0"
  mappings:
    generic:
      template: incident
      folder: escalated_incidents
      taskIdAttribute: task_id
      attributes:
        - {external: acme_incident_id, local: efecte_id, unique: true}
        - {external: efecte_id, local: partner_incident_id}
        - {external: status, local: partner_status}
        - {external: solution, local: partner_solution}
        - {external: resolved_date, local: partner_resolved_date}
  failure: {template: integration_failure, folder: integration_failures, attribute: message}`;
  return { connector, task, secrets: [secret] };
}

/** The connector types in a realistic mix: mostly REST, then Entra ID, SCIM, LDAP and M42. */
function pair(c: number, ns: string): Pair {
  const slot = c % 20;
  if (slot < 12) return restPair(c, ns);
  if (slot < 15) return msgraphPair(c, ns);
  if (slot < 17) return scimPair(c, ns);
  if (slot < 19) return ldapPair(c, ns);
  return m42Pair(c, ns);
}

/**
 * Writes `connectors` Connector + Task pairs into `files` files (each a multi-document YAML file with its
 * Connectors and their Tasks), one folder per namespace, and the secrets they reference.
 */
export function generateTree(root: string, connectors = 500, files = 100, namespaces = 10): GeneratedTree {
  const dir = join(root, 'resources');
  const secretsDir = join(root, 'secrets');
  const secrets = new Set<string>(['m42-webapi-loader']);
  const perFile = Math.ceil(connectors / files);
  let bytes = 0;
  let written = 0;
  for (let f = 0; f < files; f++) {
    const ns = `team-${String(f % namespaces).padStart(2, '0')}`;
    const docs: string[] = [];
    for (let c = f * perFile; c < Math.min(connectors, (f + 1) * perFile); c++) {
      const p = pair(c, ns);
      docs.push(p.connector, p.task);
      for (const s of p.secrets) secrets.add(s);
    }
    if (docs.length === 0) continue;
    const folder = join(dir, ns);
    mkdirSync(folder, { recursive: true });
    const text = `# Generated by bench/validate.ts: file ${f + 1} of ${files}\n${docs.join('\n---\n')}\n`;
    writeFileSync(join(folder, `connectors-${String(f).padStart(3, '0')}.yaml`), text);
    bytes += Buffer.byteLength(text);
    written++;
  }
  for (const s of secrets) {
    mkdirSync(join(secretsDir, s), { recursive: true });
    writeFileSync(join(secretsDir, s, 'password'), 'not-a-real-secret');
  }
  return { dir, secretsDir, files: written, connectors, tasks: connectors, bytes };
}
