// Body size limits of the API: part of its contract, so the CLI (a client that
// must not load the server) checks an import against the same number before
// sending it, instead of racing the server's early 413 with an upload.
export const JSON_LIMIT = 1024 * 1024;
export const IMPORT_LIMIT = 10 * 1024 * 1024;
