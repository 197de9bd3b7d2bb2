/**
 * `provisio completion bash|zsh|fish`: shell completion for the verbs, their options and the resource types,
 * generated from the command definitions so that it never lags behind them. zsh reuses the bash function through
 * bashcompinit, as kubectl's own zsh completion once did.
 */
import type { Command } from 'commander';
import { UsageError } from './errors.js';

/** Words that may follow a verb, besides its options. */
const ARGUMENTS: Record<string, string[]> = {
  get: ['connectors', 'tasks', 'runs', 'all'],
  describe: ['connector', 'task'],
  schema: ['connector', 'task', 'all'],
  explain: ['connector', 'task', 'connector.spec', 'task.spec'],
  completion: ['bash', 'zsh', 'fish'],
};

interface Verb {
  name: string;
  description: string;
  options: Array<{ long?: string; short?: string; description: string }>;
}

function verbs(program: Command): Verb[] {
  return program.commands.map((c) => ({
    name: c.name(),
    description: c.description(),
    options: c.options.map((o) => ({
      long: o.long?.replace(/^--/, ''),
      short: o.short?.replace(/^-/, ''),
      description: o.description,
    })),
  }));
}

function bash(vs: Verb[]): string {
  const cases = vs
    .map((v) => {
      const words = [
        ...(ARGUMENTS[v.name] ?? []),
        ...v.options.flatMap((o) => [o.long && `--${o.long}`, o.short && `-${o.short}`]),
      ]
        .filter(Boolean)
        .join(' ');
      return `    ${v.name}) words="${words}" ;;`;
    })
    .join('\n');
  return `# provisio bash completion: source <(provisio completion bash)
_provisio() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${vs.map((v) => v.name).join(' ')} --version --help" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _provisio provisio
`;
}

const fishQuote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fish(vs: Verb[]): string {
  const lines = ['# provisio fish completion: provisio completion fish | source', 'complete -c provisio -f'];
  for (const v of vs) {
    lines.push(`complete -c provisio -n __fish_use_subcommand -a ${v.name} -d ${fishQuote(v.description)}`);
    const when = `'__fish_seen_subcommand_from ${v.name}'`;
    for (const a of ARGUMENTS[v.name] ?? []) lines.push(`complete -c provisio -n ${when} -a ${a}`);
    for (const o of v.options) {
      const flags = [o.long && `-l ${o.long}`, o.short && `-s ${o.short}`].filter(Boolean).join(' ');
      lines.push(`complete -c provisio -n ${when} ${flags} -d ${fishQuote(o.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: string, program: Command): string {
  const vs = verbs(program);
  if (shell === 'bash') return bash(vs);
  if (shell === 'zsh') {
    return `#compdef provisio\n# provisio zsh completion: source <(provisio completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bash(vs)}`;
  }
  if (shell === 'fish') return fish(vs);
  throw new UsageError(`unknown shell "${shell}": use bash, zsh or fish`);
}
