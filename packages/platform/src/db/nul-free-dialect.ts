// PostgreSQL's text cannot hold U+0000 (SQLite's can): a statement that binds it fails on
// PostgreSQL alone ("invalid byte sequence for encoding UTF8: 0x00"), so a caller who put one in
// a client id or a device code turned a lookup into a 500 there, and provider text holding one
// (kept in a usage record's error message) made a usage batch the database refused. Every
// statement Keyward sends, on either engine, goes through this dialect: each U+0000 in a string
// parameter becomes U+FFFD (the replacement character). A lookup of such a value then finds
// nothing, as no stored value holds it, and text kept from a caller or a provider is stored the
// same on both.

import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';

const holdsNul = (value: unknown): boolean =>
  typeof value === 'string' ? value.includes('\u0000') : Array.isArray(value) && value.some(holdsNul);

const withoutNul = (value: unknown): unknown =>
  typeof value === 'string' ? value.replaceAll('\u0000', '\ufffd') : Array.isArray(value) ? value.map(withoutNul) : value;

/** The query as sent: the same object unless a parameter holds U+0000. */
export function nulFreeQuery<R>(query: CompiledQuery<R>): CompiledQuery<R> {
  return query.parameters.some(holdsNul) ? { ...query, parameters: query.parameters.map(withoutNul) } : query;
}

class NulFreeConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.inner.executeQuery<R>(nulFreeQuery(query));
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(nulFreeQuery(query), chunkSize);
  }
}

/** The engine's own driver, handed its own connections for everything but the statements (Keyward uses no savepoints, so none are passed on). */
class NulFreeDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new NulFreeConnection(await this.inner.acquireConnection());
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction((connection as NulFreeConnection).inner, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction((connection as NulFreeConnection).inner);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction((connection as NulFreeConnection).inner);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as NulFreeConnection).inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

/** `dialect`, with every statement's string parameters cleared of U+0000. */
export function nulFreeDialect(dialect: Dialect): Dialect {
  return {
    createDriver: () => new NulFreeDriver(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}
