/**
 * The discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`) and `/version`,
 * built from the served resource types. client-node's KubernetesObjectApi reads `/api/v1` or
 * `/apis/<group>/<version>` to map a kind to its resource path.
 */
import type { Obj } from './json.js';
import type { ResourceType } from './resources.js';

function resourceList(groupVersion: string, types: ResourceType[]): Obj {
  const resources: Obj[] = [];
  for (const t of types) {
    const r: Obj = {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
    };
    if (t.shortNames.length > 0) r.shortNames = t.shortNames;
    if (t.categories.length > 0) r.categories = t.categories;
    resources.push(r);
    if (t.statusSubresource) {
      resources.push({
        name: `${t.plural}/status`,
        singularName: '',
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['get', 'patch', 'update'],
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function groupOf(name: string, types: ResourceType[]): Obj {
  const versions = [...new Set(types.filter((t) => t.group === name).map((t) => t.version))].map((v) => ({
    groupVersion: `${name}/${v}`,
    version: v,
  }));
  return { name, versions, preferredVersion: versions[0] };
}

/** The discovery answer for a path, or undefined when the path is not a discovery path. */
export function discovery(path: string, types: ResourceType[], serverAddress: string): Obj | undefined {
  const segs = path.split('/').filter(Boolean);
  if (segs[0] === 'api') {
    if (segs.length === 1) {
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
      };
    }
    if (segs.length === 2 && segs[1] === 'v1')
      return resourceList(
        'v1',
        types.filter((t) => t.group === ''),
      );
    return undefined;
  }
  if (segs[0] === 'apis') {
    const groups = [...new Set(types.filter((t) => t.group).map((t) => t.group))];
    if (segs.length === 1) {
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => groupOf(g, types)) };
    }
    if (segs.length === 2 && groups.includes(segs[1]))
      return { kind: 'APIGroup', apiVersion: 'v1', ...groupOf(segs[1], types) };
    if (segs.length === 3) {
      const served = types.filter((t) => t.group === segs[1] && t.version === segs[2]);
      if (served.length > 0) return resourceList(`${segs[1]}/${segs[2]}`, served);
    }
  }
  return undefined;
}

export const VERSION_INFO = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0-provisio-fake',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.24.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};
