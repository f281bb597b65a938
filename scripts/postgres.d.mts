// Types of postgres.mjs for the TypeScript that imports it (the soak).
export interface ThrowawayPostgres {
  url: string;
  restart(): void;
  stop(): void;
}
export function findPostgresBin(): string | undefined;
export function startThrowawayPostgres(): Promise<ThrowawayPostgres | undefined>;
export function hasRunuser(): boolean;
