// An LLM proxy's optional allow-list of providers and models, enforced by the router.

import type { Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const proxyAllowedModels: KeywardMigration = {
  name: '0011-proxy-allowed-models',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('llm_proxies').addColumn('allowed_models_json', 'text').execute();
  },
};
