// Domain errors that reach a person (CLI, pages, API). `code` is stable for scripts and tests;
// the message says what to do.

export class KeywardError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'KeywardError';
  }
}

export const notFound = (what: string, id: string) => new KeywardError('not_found', `${what} "${id}" does not exist`, 404);
