// What in a native Messages body reaches state kept under the Anthropic account of the key:
// Files API files (`file_id` in image, document and container_upload blocks), an existing
// code-execution container, custom skills, and MCP connections the provider opens itself.

import type { AccountStateUse } from '../../../providers/provider-adapter.js';

const FILE = 'a file_id names a file uploaded with the Files API, stored under the Anthropic account of the key';
const CONTAINER = 'a container id reopens a code-execution container, with the files left in it, under the Anthropic account of the key';
const SKILL = 'a custom skill is uploaded to the Anthropic workspace of the key';
const MCP = 'with the MCP connector Anthropic itself connects to the named servers, from the Anthropic account of the key';

interface Step {
  node: unknown;
  parent: Step | undefined;
  /** `[3]` or `.content`, relative to the parent. */
  edge: string;
}

/** The caller-facing path of a step; a hostile nesting depth is shortened, not echoed whole. */
function pathOf(step: Step): string {
  const edges: string[] = [];
  for (let at: Step | undefined = step; at; at = at.parent) edges.push(at.edge);
  const path = edges.reverse().join('');
  return path.length > 300 ? `${path.slice(0, 150)}…${path.slice(-150)}` : path;
}

/** Every `file_id` under `value`, walked without recursion so no nesting depth can overflow the stack. */
function fileIds(value: unknown, root: string, uses: AccountStateUse[]): void {
  const pending: Step[] = [{ node: value, parent: undefined, edge: root }];
  while (pending.length > 0) {
    const step = pending.pop()!;
    const node = step.node;
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i -= 1) pending.push({ node: node[i], parent: step, edge: `[${i}]` });
      continue;
    }
    if (Object.hasOwn(node, 'file_id')) uses.push({ param: `${pathOf(step)}.file_id`, reason: FILE });
    const entries = Object.entries(node);
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      const [key, child] = entries[i]!;
      if (key !== 'file_id') pending.push({ node: child, parent: step, edge: `.${key}` });
    }
  }
}

export function anthropicAccountState(body: Record<string, unknown>): AccountStateUse[] {
  const uses: AccountStateUse[] = [];
  const container = body.container;
  if (typeof container === 'string') uses.push({ param: 'container', reason: CONTAINER });
  else if (typeof container === 'object' && container !== null) {
    const { id, skills } = container as { id?: unknown; skills?: unknown };
    if (id != null) uses.push({ param: 'container.id', reason: CONTAINER });
    // Anthropic's own skills (xlsx, pptx, …) are the same for everyone; custom ones are the workspace's.
    if (Array.isArray(skills)) {
      skills.forEach((skill: unknown, i) => {
        if ((skill as { type?: unknown } | null)?.type !== 'anthropic') uses.push({ param: `container.skills[${i}]`, reason: SKILL });
      });
    }
  }
  if (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0) uses.push({ param: 'mcp_servers', reason: MCP });
  fileIds(body.system, 'system', uses);
  fileIds(body.messages, 'messages', uses);
  return uses;
}
