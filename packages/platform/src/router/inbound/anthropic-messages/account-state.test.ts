// Which parts of a native Messages body reach state under the Anthropic account of the key.

import { describe, expect, it } from 'vitest';
import { anthropicAccountState } from './account-state.js';

const params = (body: Record<string, unknown>) => anthropicAccountState(body).map((use) => use.param);

describe('anthropicAccountState', () => {
  it('finds nothing in a plain conversation, or in Anthropic’s own skills', () => {
    expect(params({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }] })).toEqual([]);
    expect(params({ container: { skills: [{ type: 'anthropic', skill_id: 'xlsx' }] }, messages: [] })).toEqual([]);
    expect(params({ container: null, mcp_servers: [], messages: [] })).toEqual([]);
  });

  it('names every file_id, container, custom skill and MCP server list, in order', () => {
    const body = {
      container: { id: 'container_1', skills: [{ type: 'custom', skill_id: 'skill_1' }] },
      mcp_servers: [{ type: 'url', url: 'https://m', name: 'm' }],
      system: [{ type: 'text', text: 's' }],
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'f1' } }, { type: 'container_upload', file_id: 'f2' }] }],
    };
    expect(params(body)).toEqual(['container.id', 'container.skills[0]', 'mcp_servers', 'messages[0].content[0].source.file_id', 'messages[0].content[1].file_id']);
  });

  it('walks any depth without recursion', () => {
    let deep: unknown = { file_id: 'f' };
    for (let i = 0; i < 200_000; i += 1) deep = [deep];
    const uses = anthropicAccountState({ messages: deep });
    expect(uses).toHaveLength(1);
    expect(uses[0]!.param.endsWith('[0].file_id')).toBe(true);
    expect(uses[0]!.param.length).toBeLessThan(400);
  });
});
