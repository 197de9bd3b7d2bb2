/**
 * The layers of DESIGN §4, top to bottom. A module imports only from its own layer or below; `npm test`
 * runs `npm run check:layers`, which fails on an import that runs back up, naming the rule it breaks.
 * Adding a folder under src/ means adding it to one layer here (an unlisted folder fails `src-folder-has-a-layer`).
 */
const LAYERS = [
  ['cli', 'server'],
  ['controller'],
  ['invocations', 'scheduler'],
  ['engine'],
  ['connectors'],
  ['targets'],
  ['transport', 'state', 'sources', 'store', 'validation', 'secrets'],
  ['model', 'schema', 'log', 'kube', 'generated'],
];

const folders = (names) => `^src/(${names.join('|')})/`;

const layerRules = LAYERS.slice(1).map((_, i) => {
  const level = i + 1; // the layers above LAYERS[level]
  const below = LAYERS[level];
  const above = LAYERS.slice(0, level).flat();
  return {
    name: level === 1 ? 'layer-2-must-not-import-layer-1' : `layer-${level + 1}-must-not-import-layers-1-to-${level}`,
    comment: `${below.join(', ')} (layer ${level + 1}) may not import ${above.join(', ')} (layers above it, DESIGN §4)`,
    severity: 'error',
    from: { path: folders(below) },
    to: { path: folders(above) },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'connector-type-must-not-import-another-type',
      comment: 'a connector type folder uses connectors/kit and the contract (connectors/types.ts), never another type',
      severity: 'error',
      from: { path: '^src/connectors/([^/]+)/', pathNot: '^src/connectors/kit/' },
      to: { path: '^src/connectors/[^/]+/', pathNot: ['^src/connectors/$1/', '^src/connectors/kit/'] },
    },
    {
      name: 'connectors-kit-must-not-import-a-type',
      comment: 'connectors/kit is what several types share; it knows no type folder',
      severity: 'error',
      from: { path: '^src/connectors/kit/' },
      to: { path: '^src/connectors/[^/]+/', pathNot: '^src/connectors/kit/' },
    },
    {
      name: 'src-folder-has-a-layer',
      comment: 'every folder under src/ belongs to one layer: add it to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: folders(LAYERS.flat()) },
    },
    {
      name: 'src-must-not-import-tests-or-scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'no-circular',
      comment: 'import cycles make the layers meaningless and start-up order fragile',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|test|bench|scripts)/',
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
