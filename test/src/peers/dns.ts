import type { AddressInfo, Socket } from 'node:net';
import { createTCPServer, createUDPServer, type DnsHandler, Packet, type TCPServer, type UDPServer } from 'dns2';

/** What the peer answers for one name. Absent types get an empty NOERROR answer (NODATA). */
export interface DnsRecord {
  /** MX records; `{ exchange: '.', priority: 0 }` is a null MX (RFC 7505). In a wildcard record, `*` in an exchange stands for the queried name. */
  mx?: Array<{ exchange: string; priority: number }>;
  a?: string[];
  aaaa?: string[];
  /** TXT records, one string each. */
  txt?: string[];
  /** Answer NXDOMAIN (RCODE 3) for every type. */
  nxdomain?: boolean;
  /** Answer SERVFAIL (RCODE 2) for every type. */
  servfail?: boolean;
  /** Never answer: the query is read and dropped, as a dead resolver would. */
  hang?: boolean;
}

/** The key whose record answers for every name that has no record of its own. */
export const wildcard = '*';

/** A wildcard record under which any domain has mail: `mx.<domain>` at priority 10. */
export const anyDomainHasMx: DnsRecord = { mx: [{ exchange: 'mx.*', priority: 10 }] };

export interface DnsQuery {
  /** Lowercased, without the trailing dot. */
  name: string;
  /** `MX`, `A`, `AAAA`, … or the numeric type when it has no name. */
  type: string;
  transport: 'udp' | 'tcp';
}

export interface DnsPeer {
  /** `127.0.0.1:PORT`, for `Resolver#setServers` (UDP and TCP listen on the same port). */
  server: string;
  /** Adds or replaces the record of a name (or of `*`). */
  set(name: string, record: DnsRecord): void;
  /** Every question received, oldest first. */
  queries: DnsQuery[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// RFC 1035 §4.1.1 response codes.
const rcodeServerFailure = 2;
const rcodeNameError = 3;

const typeNames = new Map<number, string>(Object.entries(Packet.TYPE).map(([name, value]) => [value, name]));

/**
 * An authoritative DNS server for tests, on 127.0.0.1 and a free port, over UDP and TCP (RFC
 * 1035 §4.2): MX, A and AAAA from the given records, NXDOMAIN for names it does not know
 * (unless a `*` record is set), SERVFAIL or silence on request.
 */
export async function startDnsPeer(records: Record<string, DnsRecord> = {}): Promise<DnsPeer> {
  const zone = new Map<string, DnsRecord>();
  for (const [name, record] of Object.entries(records)) zone.set(canonicalName(name), record);
  const queries: DnsQuery[] = [];

  const answer =
    (transport: DnsQuery['transport']): DnsHandler =>
    (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      response.header.aa = 1;
      let silent = false;
      for (const question of request.questions) {
        const name = canonicalName(question.name);
        const type = typeNames.get(question.type) ?? String(question.type);
        queries.push({ name, type, transport });
        const own = zone.get(name);
        const record = own ?? zone.get(wildcard);
        if (!record) {
          response.header.rcode = rcodeNameError;
          continue;
        }
        if (record.hang) silent = true;
        if (record.nxdomain) response.header.rcode = rcodeNameError;
        if (record.servfail) response.header.rcode = rcodeServerFailure;
        if (record.hang || record.nxdomain || record.servfail) continue;
        const ttl = 300;
        if (question.type === Packet.TYPE.MX) {
          for (const { exchange, priority } of record.mx ?? []) {
            const target = own ? exchange : exchange.replaceAll('*', name);
            response.answers.push(Packet.createResourceFromQuestion(question, { type: Packet.TYPE.MX, ttl, exchange: target, priority }));
          }
        } else if (question.type === Packet.TYPE.A) {
          for (const address of record.a ?? []) {
            response.answers.push(Packet.createResourceFromQuestion(question, { type: Packet.TYPE.A, ttl, address }));
          }
        } else if (question.type === Packet.TYPE.TXT) {
          for (const data of record.txt ?? []) {
            response.answers.push(Packet.createResourceFromQuestion(question, { type: Packet.TYPE.TXT, ttl, data }));
          }
        } else if (question.type === Packet.TYPE.AAAA) {
          for (const address of record.aaaa ?? []) {
            response.answers.push(Packet.createResourceFromQuestion(question, { type: Packet.TYPE.AAAA, ttl, address }));
          }
        }
      }
      if (!silent) void send(response).catch(() => undefined); // a client that went away is not the test's concern
    };

  const tcp = createTCPServer(answer('tcp'));
  const connections = new Set<Socket>();
  tcp.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  // c-ares reaches a server over UDP and TCP on the same port, so TCP takes the port UDP got
  // (and another UDP port is tried when that one is taken for TCP).
  let udp: UDPServer;
  let port: number;
  for (let attempt = 1; ; attempt++) {
    udp = createUDPServer(answer('udp'));
    await udp.listen(0, '127.0.0.1');
    port = (udp.address() as AddressInfo).port;
    try {
      await listenTcp(tcp, port);
      break;
    } catch (error) {
      await closeUdp(udp);
      if (attempt === 5) throw error;
    }
  }

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const socket of connections) socket.destroy();
      await Promise.all([closeUdp(udp), new Promise<void>((resolve) => tcp.close(() => resolve()))]);
    })();
    return closed;
  };

  return {
    server: `127.0.0.1:${port}`,
    set(name, record) {
      zone.set(canonicalName(name), record);
    },
    queries,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function closeUdp(socket: UDPServer): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

function listenTcp(server: TCPServer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
}
