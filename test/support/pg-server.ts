// The PostgreSQL server the tests use: TEST_DATABASE_URL, else DATABASE_URL,
// else the local server on 127.0.0.1:5432 (trust auth, database `test`).
export function adminUrl(): string {
  return process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export function urlFor(database: string): string {
  const u = new URL(adminUrl());
  u.pathname = '/' + database;
  return u.toString();
}
