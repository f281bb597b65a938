import type { AdminCommand } from '../command.js';

// openContext() has already brought the schema up to date by the time any command runs.
export const migrate: AdminCommand = {
  name: 'migrate',
  usage: 'keyward migrate',
  options: {},
  async run(ctx) {
    return { database: ctx.storage.dialect, status: 'up to date' };
  },
  text: (r) => `${String(r.database)} schema is up to date`,
};
