/**
 * The Helm chart charts/provisio, checked with the real helm v4 and kubectl v1.35 binaries
 * (scripts/fetch-helm.mjs puts them in .tools/bin; beforeAll fetches them when they are missing).
 * helm runs offline with its cache, config and data homes in a temp dir and a kubeconfig that does
 * not exist, so no developer cluster is ever touched. There is no API server here, so kubectl cannot
 * validate against the OpenAPI schemas (`kubectl apply --dry-run=client` needs discovery even with
 * --validate=false): it decodes every rendered object offline (`kubectl label --local`), and the test
 * checks the fields users and the API server rely on.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const chart = join(root, 'charts/provisio');
const helmBin = join(root, '.tools/bin/helm');
const kubectlBin = join(root, '.tools/bin/kubectl');
const RELEASE = 'provisio';
const NAMESPACE = 'provisio-system';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked field by field
  [key: string]: any;
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

let work: string;
let env: NodeJS.ProcessEnv;
let valuesFiles = 0;

beforeAll(() => {
  if (!existsSync(helmBin) || !existsSync(kubectlBin)) {
    execFileSync(process.execPath, [join(root, 'scripts/fetch-helm.mjs')], { stdio: 'inherit', timeout: 240_000 });
  }
  work = mkdtempSync(join(tmpdir(), 'provisio-helm-'));
  env = {
    ...process.env,
    HELM_CACHE_HOME: join(work, 'cache'),
    HELM_CONFIG_HOME: join(work, 'config'),
    HELM_DATA_HOME: join(work, 'data'),
    KUBECONFIG: join(work, 'no-kubeconfig'),
  };
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(bin: string, args: string[], input?: string) {
  const r = spawnSync(bin, args, { env, encoding: 'utf8', input, timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr };
}

/** `--values FILE` for a chart values file, or for YAML written to a temp file. */
function valuesArgs(values: Array<string | Record<string, unknown>>): string[] {
  return values.flatMap((v) => {
    if (typeof v === 'string') return ['--values', join(chart, v)];
    const file = join(work, `values-${++valuesFiles}.yaml`);
    writeFileSync(file, JSON.stringify(v));
    return ['--values', file];
  });
}

function lint(values: Array<string | Record<string, unknown>> = [], strict = false) {
  return run(helmBin, ['lint', chart, ...(strict ? ['--strict'] : []), ...valuesArgs(values)]);
}

function template(values: Array<string | Record<string, unknown>> = [], extra: string[] = []) {
  return run(helmBin, ['template', RELEASE, chart, '--namespace', NAMESPACE, ...valuesArgs(values), ...extra]);
}

function render(values: Array<string | Record<string, unknown>> = [], extra: string[] = []): K8sObject[] {
  const r = template(values, extra);
  expect(r.status, r.stderr).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
function one(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = ofKind(objects, kind).filter((o) => name === undefined || o.metadata.name === name);
  expect(found.map((o) => `${o.kind}/${o.metadata.name}`)).toHaveLength(1);
  return found[0];
}
const container = (objects: K8sObject[]) => one(objects, 'Deployment').spec.template.spec.containers[0];

const RESOURCE_RULES: PolicyRule[] = [
  { apiGroups: ['provisio.dev'], resources: ['connectors', 'tasks'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['provisio.dev'], resources: ['connectors/status', 'tasks/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
];
const SECRET_RULES: PolicyRule[] = [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }];
const LEASE_RULES: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/** Rules that hold for every render: no wildcards, secrets only `get`, leases only in the release namespace. */
function checkRbacInvariants(objects: K8sObject[]) {
  for (const role of [...ofKind(objects, 'Role'), ...ofKind(objects, 'ClusterRole')]) {
    for (const rule of role.rules as PolicyRule[]) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs]) expect(field).not.toContain('*');
      if (rule.resources.includes('secrets')) {
        expect(rule).toEqual(SECRET_RULES[0]);
      }
      if (rule.resources.includes('leases')) {
        expect(role.kind).toBe('Role');
        expect(role.metadata.namespace).toBe(NAMESPACE);
      }
    }
  }
  // Every binding points at a role the chart renders, for the controller's ServiceAccount.
  const sa = one(objects, 'ServiceAccount').metadata.name;
  for (const binding of [...ofKind(objects, 'RoleBinding'), ...ofKind(objects, 'ClusterRoleBinding')]) {
    const roleKind = binding.roleRef.kind;
    const target = objects.filter(
      (o) =>
        o.kind === roleKind &&
        o.metadata.name === binding.roleRef.name &&
        o.metadata.namespace === binding.metadata.namespace,
    );
    expect(target, `${binding.kind} ${binding.metadata.name}`).toHaveLength(1);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: NAMESPACE }]);
  }
}

describe('helm lint', () => {
  it.each([
    ['default values', []],
    ['values-test.yaml', ['values-test.yaml']],
    ['values-prod.yaml', ['values-prod.yaml']],
  ])('passes for %s, also with --strict', (_label, values) => {
    for (const strict of [false, true]) {
      const r = lint(values, strict);
      expect(r.status, r.output).toBe(0);
      expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it.each([
    [
      'an unknown environment',
      { environment: 'staging' },
      '/environment',
      "value must be one of 'test', 'prod', 'demo', 'dev'",
    ],
    ['replicaCount as a string', { replicaCount: '3' }, '/replicaCount', 'got string, want integer'],
    [
      'an unknown state backend',
      { state: { backend: 'sqlite' } },
      '/state/backend',
      "value must be one of 'file', 'redis'",
    ],
    [
      'an unknown RBAC scope',
      { rbac: { scope: 'namespace' } },
      '/rbac/scope',
      "value must be one of 'cluster', 'namespaced'",
    ],
    ['a misspelt key', { replicas: 3 }, "additional properties 'replicas' not allowed", ''],
    ['a namespace that is no DNS label', { watchNamespaces: ['IGA'] }, '/watchNamespaces/0', ''],
    ['a boolean as a string', { serviceMonitor: { enabled: 'yes' } }, '/serviceMonitor/enabled', 'want boolean'],
  ])('fails for %s, naming the field', (_label, values, field, message) => {
    const r = lint([values]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('[ERROR]');
    expect(r.output).toContain(field);
    expect(r.output).toContain(message);
  });
});

describe('helm template with the default values', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render();
  });

  it('renders the controller objects, and no PodDisruptionBudget or ServiceMonitor', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'PersistentVolumeClaim',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
  });

  it('runs as user 10001 with a read-only root filesystem, no privilege escalation, no capabilities', () => {
    const pod = one(objects, 'Deployment').spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container(objects).securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe(one(objects, 'ServiceAccount').metadata.name);
  });

  it('probes /healthz and /readyz on the http port, which the Service exposes', () => {
    const c = container(objects);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const svc = one(objects, 'Service');
    expect(svc.spec.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
    ]);
    expect(svc.spec.selector).toEqual(one(objects, 'Deployment').spec.selector.matchLabels);
  });

  it('runs `run --kubernetes` over all namespaces with the state dir, listener and environment', () => {
    const deployment = one(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const c = container(objects);
    expect(c.image).toBe('provisio:0.1.0');
    expect(c.command).toBeUndefined(); // the image's ENTRYPOINT
    expect(c.args).toEqual([
      'run',
      '--kubernetes',
      '--state-dir',
      '/var/lib/provisio',
      '--listen',
      ':8080',
      '--environment',
      'dev',
      '--lease-name',
      RELEASE,
      '--concurrency',
      '6',
    ]);
    expect(c.args).not.toContain('--namespace');
    expect(c.args).not.toContain('--api-token-file');
  });

  it('passes the pod name and namespace (downward API) and the settings from a ConfigMap whose checksum rolls the pods', () => {
    const c = container(objects);
    expect(c.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ]);
    const cm = one(objects, 'ConfigMap');
    expect(c.envFrom).toEqual([{ configMapRef: { name: cm.metadata.name } }]);
    expect(cm.data).toEqual({ PROVISIO_ENVIRONMENT: 'dev', PROVISIO_LOG_LEVEL: 'info' });
    const checksum = one(objects, 'Deployment').spec.template.metadata.annotations['checksum/config'];
    expect(checksum).toMatch(/^[0-9a-f]{64}$/);
    const changed = one(render([{ logLevel: 'warn' }]), 'Deployment').spec.template.metadata.annotations;
    expect(changed['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    expect(changed['checksum/config']).not.toBe(checksum);
  });

  it('keeps the file state on a PersistentVolumeClaim and /tmp on an emptyDir', () => {
    const pod = one(objects, 'Deployment').spec.template.spec;
    const pvc = one(objects, 'PersistentVolumeClaim');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
    expect(pvc.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
      { name: 'state', persistentVolumeClaim: { claimName: pvc.metadata.name } },
    ]);
    expect(container(objects).volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'state', mountPath: '/var/lib/provisio' },
    ]);
  });

  it('grants exactly the listed rules cluster-wide, and the Lease only in the release namespace', () => {
    const clusterRole = one(objects, 'ClusterRole');
    expect(clusterRole.rules).toEqual([...RESOURCE_RULES, ...SECRET_RULES]);
    expect(clusterRole.metadata.name).toBe(`${NAMESPACE}-${RELEASE}`);
    expect(one(objects, 'ClusterRoleBinding').roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: clusterRole.metadata.name,
    });
    const lease = one(objects, 'Role');
    expect(lease.metadata).toMatchObject({ name: `${RELEASE}-leader-election`, namespace: NAMESPACE });
    expect(lease.rules).toEqual(LEASE_RULES);
    checkRbacInvariants(objects);
  });

  it('labels every object with the app.kubernetes.io set and the environment', () => {
    for (const o of objects) {
      const id = `${o.kind}/${o.metadata.name}`;
      expect(o.apiVersion, id).toMatch(/^([a-z0-9.-]+\/)?v[0-9]+(alpha[0-9]+|beta[0-9]+)?$/);
      expect(o.metadata.name, id).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      expect(o.metadata.labels, id).toEqual({
        'helm.sh/chart': 'provisio-0.1.0',
        'app.kubernetes.io/name': 'provisio',
        'app.kubernetes.io/instance': RELEASE,
        'app.kubernetes.io/version': '0.1.0',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/part-of': 'provisio',
        'app.kubernetes.io/component': 'controller',
        'provisio.dev/environment': 'dev',
      });
      if (!['ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) expect(o.metadata.namespace, id).toBeTruthy();
    }
    const pod = one(objects, 'Deployment').spec.template;
    expect(pod.metadata.labels['provisio.dev/environment']).toBe('dev');
    expect(one(objects, 'Deployment').spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'provisio',
      'app.kubernetes.io/instance': RELEASE,
    });
  });
});

describe('helm template with values-test.yaml', () => {
  it('runs one replica on the file backend with a PVC, debug logging and environment test', () => {
    const objects = render(['values-test.yaml']);
    const deployment = one(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.metadata.labels['provisio.dev/environment']).toBe('test');
    const c = container(objects);
    expect(c.args).toEqual(expect.arrayContaining(['--kubernetes', '--environment', 'test']));
    expect(c.args.slice(c.args.indexOf('--environment'), c.args.indexOf('--environment') + 2)).toEqual([
      '--environment',
      'test',
    ]);
    expect(one(objects, 'ConfigMap').data).toEqual({ PROVISIO_ENVIRONMENT: 'test', PROVISIO_LOG_LEVEL: 'debug' });
    const pvc = one(objects, 'PersistentVolumeClaim');
    expect(pvc.spec.resources.requests.storage).toBe('2Gi');
    expect(deployment.spec.template.spec.volumes).toContainEqual({
      name: 'state',
      persistentVolumeClaim: { claimName: pvc.metadata.name },
    });
    expect(c.volumeMounts).toContainEqual({ name: 'state', mountPath: '/var/lib/provisio' });
    expect(ofKind(objects, 'PodDisruptionBudget')).toEqual([]);
    expect(ofKind(objects, 'ServiceMonitor')).toEqual([]);
    checkRbacInvariants(objects);
  });

  it('mounts the API tokens from the existing Secret as a file for --api-token-file', () => {
    const objects = render(['values-test.yaml']);
    const c = container(objects);
    const i = c.args.indexOf('--api-token-file');
    expect(c.args[i + 1]).toBe('/etc/provisio/api-tokens/tokens');
    expect(c.volumeMounts).toContainEqual({
      name: 'api-tokens',
      mountPath: '/etc/provisio/api-tokens',
      readOnly: true,
    });
    expect(one(objects, 'Deployment').spec.template.spec.volumes).toContainEqual({
      name: 'api-tokens',
      secret: { secretName: 'provisio-api-tokens', defaultMode: 0o440, items: [{ key: 'tokens', path: 'tokens' }] },
    });
    // The tokens are never in the rendered manifests: the chart creates no Secret for them.
    expect(ofKind(objects, 'Secret')).toEqual([]);
  });
});

describe('helm template with target.kind m42', () => {
  it('passes --target m42 with the URL and mounts the CA Secret for --target-ca', () => {
    const url = 'https://itsm.example.com/rest-api/itsm/v1';
    const objects = render([{ target: { kind: 'm42', url, caSecret: 'itsm-ca' } }]);
    const c = container(objects);
    const at = c.args.indexOf('--target');
    expect(c.args.slice(at, at + 6)).toEqual([
      '--target',
      'm42',
      '--target-url',
      url,
      '--target-ca',
      '/etc/provisio/target-ca/ca.crt',
    ]);
    expect(c.volumeMounts).toContainEqual({ name: 'target-ca', mountPath: '/etc/provisio/target-ca', readOnly: true });
    expect(one(objects, 'Deployment').spec.template.spec.volumes).toContainEqual({
      name: 'target-ca',
      secret: { secretName: 'itsm-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
    });
  });

  it('refuses target.kind m42 without a URL, and writes locally by default', () => {
    const r = template([{ target: { kind: 'm42' } }]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/target|url/);
    expect(container(render()).args).not.toContain('--target');
  });
});

describe('helm template with values-prod.yaml', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render(['values-prod.yaml']);
  });

  it('runs three replicas on Redis from a Secret, with resources, a PodDisruptionBudget and a rolling update', () => {
    const deployment = one(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy.type).toBe('RollingUpdate');
    expect(deployment.spec.template.metadata.labels['provisio.dev/environment']).toBe('prod');
    const c = container(objects);
    expect(c.image).toBe('registry.example.com/provisio/provisio:0.1.0');
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } });
    expect(c.env).toContainEqual({
      name: 'PROVISIO_REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'provisio-redis', key: 'url' } },
    });
    const i = c.args.indexOf('--redis');
    expect(c.args[i + 1]).toBe('$(PROVISIO_REDIS_URL)');
    expect(c.args.slice(c.args.indexOf('--environment'), c.args.indexOf('--environment') + 2)).toEqual([
      '--environment',
      'prod',
    ]);
    // No PVC with Redis: the state directory is an emptyDir.
    expect(ofKind(objects, 'PersistentVolumeClaim')).toEqual([]);
    expect(deployment.spec.template.spec.volumes).toContainEqual({ name: 'state', emptyDir: {} });
    const pdb = one(objects, 'PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: deployment.spec.selector });
    expect(deployment.spec.template.spec.topologySpreadConstraints[0].labelSelector).toEqual(deployment.spec.selector);
  });

  it('watches the two namespaces with a Role each and nothing cluster-wide', () => {
    const c = container(objects);
    const namespaceArgs = c.args.flatMap((a: string, i: number) => (a === '--namespace' ? [c.args[i + 1]] : []));
    expect(namespaceArgs).toEqual(['iga', 'iga-partners']);
    expect(ofKind(objects, 'ClusterRole')).toEqual([]);
    expect(ofKind(objects, 'ClusterRoleBinding')).toEqual([]);
    for (const ns of ['iga', 'iga-partners']) {
      const role = ofKind(objects, 'Role').find((r) => r.metadata.namespace === ns);
      expect(role?.rules, ns).toEqual([...RESOURCE_RULES, ...SECRET_RULES]);
      expect(ofKind(objects, 'RoleBinding').filter((b) => b.metadata.namespace === ns)).toHaveLength(1);
    }
    const lease = one(objects, 'Role', `${RELEASE}-leader-election`);
    expect(lease.metadata.namespace).toBe(NAMESPACE);
    expect(lease.rules).toEqual(LEASE_RULES);
    expect(ofKind(objects, 'Role')).toHaveLength(3);
    checkRbacInvariants(objects);
  });

  it('creates the ServiceMonitor for the http port', () => {
    const sm = one(objects, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels?.release).toBe('prometheus');
    expect(sm.spec.selector.matchLabels).toEqual(one(objects, 'Service').spec.selector);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: [NAMESPACE] });
    expect(sm.spec.endpoints).toEqual([
      { port: 'http', path: '/metrics', scheme: 'http', interval: '30s', scrapeTimeout: '10s' },
    ]);
  });
});

describe('helm template: other settings', () => {
  it('with rbac.scope cluster and watched namespaces, reads Secrets only in those namespaces', () => {
    const objects = render([{ watchNamespaces: ['iga', 'hr'] }]);
    expect(one(objects, 'ClusterRole').rules).toEqual(RESOURCE_RULES);
    for (const ns of ['iga', 'hr']) {
      const role = ofKind(objects, 'Role').find((r) => r.metadata.namespace === ns);
      expect(role?.rules, ns).toEqual(SECRET_RULES);
    }
    checkRbacInvariants(objects);
  });

  it('with rbac.scope namespaced and no watched namespace, watches the release namespace', () => {
    const objects = render([{ rbac: { scope: 'namespaced' } }]);
    const c = container(objects);
    expect(c.args.slice(2, 4)).toEqual(['--namespace', NAMESPACE]);
    expect(ofKind(objects, 'ClusterRole')).toEqual([]);
    expect(one(objects, 'Role', RELEASE).rules).toEqual([...RESOURCE_RULES, ...SECRET_RULES]);
    checkRbacInvariants(objects);
  });

  it('renders no RBAC with rbac.create false', () => {
    const objects = render([{ rbac: { create: false } }]);
    for (const kind of ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'])
      expect(ofKind(objects, kind)).toEqual([]);
  });

  it('creates the ServiceMonitor only when enabled', () => {
    expect(ofKind(render(), 'ServiceMonitor')).toEqual([]);
    expect(ofKind(render([{ serviceMonitor: { enabled: true } }]), 'ServiceMonitor')).toHaveLength(1);
  });

  it('keeps a Redis URL given in values in a Secret, and its checksum on the pods', () => {
    const objects = render([{ replicaCount: 2, state: { backend: 'redis', redis: { url: 'redis://redis:6379/0' } } }]);
    const secret = one(objects, 'Secret');
    expect(secret.stringData).toEqual({ url: 'redis://redis:6379/0' });
    expect(container(objects).env).toContainEqual({
      name: 'PROVISIO_REDIS_URL',
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'url' } },
    });
    expect(one(objects, 'Deployment').spec.template.metadata.annotations['checksum/redis']).toMatch(/^[0-9a-f]{64}$/);
    expect(one(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  it('runs a Redis with AOF persistence for the shared state with state.redis.deploy, apart from the controller', () => {
    expect(
      ofKind(
        render([{ replicaCount: 2, state: { backend: 'redis', redis: { url: 'redis://r:6379' } } }]),
        'StatefulSet',
      ),
    ).toEqual([]);
    const objects = render([{ replicaCount: 2, state: { backend: 'redis', redis: { deploy: { enabled: true } } } }]);
    const redis = one(objects, 'StatefulSet', 'provisio-redis');
    const c = redis.spec.template.spec.containers[0];
    expect(c.image).toBe('redis:7.4-alpine');
    expect(c.args).toEqual(['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', '/data']);
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(redis.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    // The controllers reach it by its Service, through the Secret the chart writes.
    expect(one(objects, 'Service', 'provisio-redis').spec.ports).toEqual([
      { name: 'redis', port: 6379, targetPort: 'redis' },
    ]);
    const secret = one(objects, 'Secret', 'provisio-redis');
    expect(secret.stringData).toEqual({ url: 'redis://provisio-redis.provisio-system.svc:6379/0' });
    expect(container(objects).env).toContainEqual({
      name: 'PROVISIO_REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'provisio-redis', key: 'url' } },
    });
    // The controller's selectors never match the Redis pod, nor the Redis selector a controller pod.
    const controllerSelector = one(objects, 'Deployment').spec.selector.matchLabels as Record<string, string>;
    const redisPod = redis.spec.template.metadata.labels as Record<string, string>;
    expect(Object.entries(controllerSelector).every(([k, v]) => redisPod[k] === v)).toBe(false);
    const both = template([
      { state: { backend: 'redis', redis: { url: 'redis://r:6379', deploy: { enabled: true } } } },
    ]);
    expect(both.status).not.toBe(0);
    expect(both.stderr).toContain('state.redis.deploy.enabled runs a Redis with this release, but state.redis.url');
  });

  it('uses an emptyDir for the file state when persistence is off', () => {
    const objects = render([{ persistence: { enabled: false } }]);
    expect(ofKind(objects, 'PersistentVolumeClaim')).toEqual([]);
    expect(one(objects, 'Deployment').spec.template.spec.volumes).toContainEqual({ name: 'state', emptyDir: {} });
  });

  it('fails with a clear message for 3 replicas on the file backend', () => {
    const r = template([{ replicaCount: 3 }]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      'replicaCount is 3, but state.backend "file" (embedded SQLite on one volume) supports only 1 replica: set replicaCount: 1, or state.backend: redis',
    );
    // values-prod.yaml with the file backend fails the same way.
    const prod = template(['values-prod.yaml', { state: { backend: 'file' } }]);
    expect(prod.status).not.toBe(0);
    expect(prod.stderr).toContain('replicaCount is 3, but state.backend "file"');
  });

  it('fails for the redis backend without a URL, and with two of them', () => {
    const none = template([{ state: { backend: 'redis' } }]);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toContain('state.backend is "redis": set state.redis.existingSecret');
    const both = template([{ state: { backend: 'redis', redis: { url: 'redis://r:6379', existingSecret: 'r' } } }]);
    expect(both.status).not.toBe(0);
    expect(both.stderr).toContain('state.redis.url and state.redis.existingSecret are both set');
  });
});

describe('CRDs and chart metadata', () => {
  it('ships the same CRDs as the top-level crds/ (scripts/generate.ts writes both)', () => {
    const top = readdirSync(join(root, 'crds')).sort();
    expect(top).toEqual(['connectors.provisio.dev.yaml', 'tasks.provisio.dev.yaml']);
    expect(readdirSync(join(chart, 'crds')).sort()).toEqual(top);
    for (const file of top) {
      expect(readFileSync(join(chart, 'crds', file), 'utf8'), file).toBe(
        readFileSync(join(root, 'crds', file), 'utf8'),
      );
    }
    const crds = ofKind(render([], ['--include-crds']), 'CustomResourceDefinition');
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(['connectors.provisio.dev', 'tasks.provisio.dev']);
    for (const crd of crds) {
      expect(crd.spec.group).toBe('provisio.dev');
      expect(crd.spec.versions.map((v: { name: string }) => v.name)).toContain('v1alpha1');
    }
  });

  it('has the chart version 0.1.0 and the package version as appVersion', () => {
    const meta = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8'));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(meta).toMatchObject({ apiVersion: 'v2', name: 'provisio', type: 'application', version: '0.1.0' });
    expect(meta.appVersion).toBe(pkg.version);
  });

  it('documents every value in values.yaml with a comment', () => {
    // A key is documented by the comment line right above it, or by its parent's when none of its
    // siblings has a comment of its own (such as the fields of probes.liveness).
    const lines = readFileSync(join(chart, 'values.yaml'), 'utf8').split('\n');
    interface Entry {
      key: string;
      indent: number;
      commented: boolean;
      parent?: Entry;
    }
    const entries: Entry[] = [];
    lines.forEach((line, i) => {
      const m = /^(\s*)([A-Za-z][\w.-]*):/.exec(line);
      if (!m) return;
      const indent = m[1].length;
      const parent = entries.findLast((e) => e.indent < indent);
      const path = parent ? `${parent.key}.${m[2]}` : m[2];
      entries.push({ key: path, indent, commented: lines[i - 1]?.trim().startsWith('#') ?? false, parent });
    });
    const documented = (e: Entry): boolean =>
      e.commented ||
      (e.parent !== undefined &&
        documented(e.parent) &&
        !entries.some((s) => s.parent === e.parent && s.indent === e.indent && s.commented));
    expect(entries.length).toBeGreaterThan(50);
    expect(entries.filter((e) => !documented(e)).map((e) => e.key)).toEqual([]);
  });
});

describe('the image the chart runs (Dockerfile, read: no Docker engine here)', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

  it("runs as the user the chart expects, with the entry point the chart's args follow", () => {
    const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8'));
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER 10001:10001$/m);
    expect(values.securityContext.runAsUser).toBe(10001);
    expect(values.podSecurityContext.runAsUser).toBe(10001);
    expect(runtime).toContain('ENTRYPOINT ["node", "dist/cli/main.js"]');
    expect(runtime).toContain('CMD ["run", "--kubernetes", "--listen", ":8080"]');
    expect(existsSync(join(root, 'src/cli/main.ts'))).toBe(true);
    expect(parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')).compilerOptions).toMatchObject({
      rootDir: 'src',
      outDir: 'dist',
    });
  });

  it("has every file it copies from the build context in .dockerignore's allow list", () => {
    const allowed = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    expect(copied.length).toBeGreaterThan(3);
    for (const source of copied) {
      expect(allowed, source).toContain(source);
      expect(existsSync(join(root, source)), source).toBe(true);
    }
  });
});

describe('kubectl', () => {
  it('decodes every rendered object offline (default, test and prod values, with CRDs)', () => {
    for (const values of [[], ['values-test.yaml'], ['values-prod.yaml']]) {
      const r = template(values, ['--include-crds']);
      expect(r.status, r.stderr).toBe(0);
      const objects = parseAllDocuments(r.stdout)
        .map((d) => d.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null);
      const k = run(kubectlBin, ['label', '--local', '-f', '-', 'provisio.dev/checked=true', '-o', 'name'], r.stdout);
      expect(k.status, k.stderr).toBe(0);
      expect(k.stdout.trim().split('\n')).toHaveLength(objects.length);
      for (const o of objects) {
        expect(o.apiVersion).toBeTruthy();
        expect(o.kind).toBeTruthy();
        expect(o.metadata.name).toBeTruthy();
        expect(o.metadata.labels?.['app.kubernetes.io/part-of']).toBe('provisio');
      }
    }
  });
});
