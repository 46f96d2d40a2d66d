// The peer: better-auth with email and password, on its own database of the same MariaDB
// server, served by node:http. BENCH_BA_HASH picks the password hashing: `scrypt` is
// better-auth's default (N=16384, r=16, p=1, 64-byte key); `argon2id` plugs in the service's
// own argon2id parameters through `emailAndPassword.password.hash/verify`, so both sides spend
// the same work per sign-in.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { passwordHashOptions } from '@iam/server';
import argon2 from 'argon2';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import mysql from 'mysql2/promise';
import { serveCommands } from '../lib/child';

const databaseUrl = process.env.BENCH_BA_DATABASE_URL;
const secret = process.env.BENCH_BA_SECRET;
if (!databaseUrl || !secret) throw new Error('BENCH_BA_DATABASE_URL and BENCH_BA_SECRET are required');
const hashing = process.env.BENCH_BA_HASH === 'argon2id' ? 'argon2id' : 'scrypt';

// The port comes first: better-auth wants its base URL at construction.
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// The same pool size as the service's main pool (server/src/db/client.ts).
const pool = mysql.createPool({ uri: databaseUrl, connectionLimit: 16, maxIdle: 4, timezone: 'Z', enableKeepAlive: true });
const options = {
  baseURL,
  secret,
  database: pool,
  emailAndPassword: {
    enabled: true,
    requireEmailVerification: false,
    ...(hashing === 'argon2id'
      ? {
          password: {
            hash: (password: string) => argon2.hash(password, passwordHashOptions),
            verify: async ({ hash, password }: { hash: string; password: string }) => {
              try {
                return await argon2.verify(hash, password);
              } catch {
                return false;
              }
            },
          },
        }
      : {}),
  },
  // Like the service under `pnpm bench`: limits out of the way, nothing phoned home.
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { disabled: true },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
server.on('request', toNodeHandler(auth));
server.keepAliveTimeout = 5_000;

serveCommands({ baseURL, hashing }, {});
process.on('disconnect', () => void pool.end());
