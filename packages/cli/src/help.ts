/** `--help` texts: what the command does, its options with defaults, and an example. */

export const MAIN_HELP = `chorus: multi-signer DNSSEC coordination (RFC 8901)

Usage: chorus <command> [options]

Commands:
  lab up       start the lab: a BIND parent (test.), BIND, PowerDNS and Knot signers and
               validating unbound resolvers, all on loopback (--traps: also four
               deliberately misconfigured signers)
  lab status   show the lab's servers, resolvers, files and control endpoints
  lab restart  restart lab servers on their existing config, keys and data
  lab down     stop everything the lab started
  lab registry-agent
               run the lab parent's registry agent (CDS/CDNSKEY and CSYNC scanner that
               updates test.); "lab up" starts it as a lab process
  query        ask one DNS question (a small dig) and show whether the answer is validated
  audit        check a live zone from the public DNS alone, multi-signer aware (RFC 8901)
  demo         the migration demo on the lab: BIND → PowerDNS + Knot, watched by observers
               and validating resolvers, with a summary and the timeline report
  sidecar      run the sidecar of one signer (--config FILE)
  zone define  record the group that signs a zone now, and its timing (--group G: many zones
               at once, with a group's signers and timing)
  zone model   move a zone between RFC 8901's models: the safe order, and why it is refused
  group        define a group of zones that follow one request together, or show it
  signer add   add a signer to a zone's group (ADD-SIGNER) and follow the process
  signer remove
               remove a signer from a zone's group (REMOVE-SIGNER), saying when it may
               stop serving
  migrate      move a zone between signers without going insecure (adds, then removes)
  owner        the zone owner of a model-1 zone: signs the one DNSKEY RRset every member
               serves, with the owner's KSK (a 0600 file or an HSM), and refreshes it in time
  stop         end the process in flight at its next safe point, never breaking validation
  undo         reverse the last stopped process from where it stopped (a join by removing
               the joiner, a leave by adding the leaver back), with the same waits and checks
  bootstrap    sign a zone that is delegated to its signers without DS: sync their keys,
               publish RFC 9615 signals, and let the parent authenticate the DS
  roll         roll one signer's ZSK inside the group (pre-publish, standards §7.3), or
               follow a roll its server began
  status       each zone's group, process, step, what it waits for, failing signers,
               pending requests and changed registrations (--group G: a group summed up)
  events       a zone's event stream, one line per event (refused events marked REFUSED)
  stats        statistics from the event log: processes, durations against mandated waits,
               glitches, retries and their causes, writes per provider
  keygen       make an Ed25519 event key (0600 file) and print its public key
  trust        grant or revoke the event keys of sidecars, operators and observers in a
               zone (an operator-signed trust-changed event), or show who is trusted
  report       the timeline report of a zone: an HTML page and an SVG per process
  serve        the control-plane daemon: a REST API (OpenAPI 3.1) over the event log, with
               bearer tokens (viewer, operator, admin)
  token        create, list or revoke the API tokens of "chorus serve"

Run "chorus <command> --help" (e.g. "chorus signer add --help") for a command's options, and
"chorus --version" for the version.
Errors exit with 1, command-line mistakes with 2. Set CHORUS_DEBUG=1 to see stack traces.
`;

export const LAB_HELP = `Usage: chorus lab <up|status|restart|down|registry-agent> [options]

  up              start the lab (see "chorus lab up --help")
  status          show what runs where (see "chorus lab status --help")
  restart         restart servers, keeping their data (see "chorus lab restart --help")
  down            stop it (see "chorus lab down --help")
  registry-agent  the parent's CDS/CSYNC scanner, as "lab up" runs it
                  (see "chorus lab registry-agent --help")
`;

const DIRECTORY_OPTION = `  --dir DIR               lab directory (default: $CHORUS_LAB_DIR, else ./.lab)`;

export const LAB_UP_HELP = `Usage: chorus lab up [options]

Starts real nameservers on loopback, each with its own address, directory, PID file and log:
  parent  BIND 9.18 serving test. (signed, dynamic, UPDATE by TSIG)        <prefix>.1
  bind    BIND 9.18 signer (dnssec-policy, no inline-signing)              <prefix>.2
  powerdns PowerDNS 4.7 signer (gsqlite3, direct-dnskey, API on :8081)     <prefix>.3
  knot    Knot 3.2 signer (dnskey-management: incremental)                 <prefix>.4
  unbound resolvers trusting only the parent's DS: delegation-following   <prefix>.50
          and one pinned to each signer                                    <prefix>.51-.53
          a non-validating cache following the delegation                  <prefix>.54
          and a validating resolver forwarding to that cache               <prefix>.55
With --traps, also four deliberately misconfigured signers (role "trap"):
  bind-inline-signing        BIND with inline-signing yes                  <prefix>.12
  powerdns-no-direct-dnskey  PowerDNS with direct-dnskey=no                <prefix>.13
  knot-full-management       Knot with dnskey-management: full             <prefix>.14
  knot-zonefile-revert       Knot with zonefile-sync: -1 (restart reverts) <prefix>.15
With --providers desec,ns1, also the SaaS providers, each a real PowerDNS 4.7 that signs and
serves every zone, behind a fake of the provider's REST API (a Node process on :8000):
  desec   one CSK, its own CDS (SHA-256 and SHA-384) and CDNSKEY; deSEC API  <prefix>.5
  ns1     KSK + ZSK, no CDS of its own; NS1 API (external key sets)        <prefix>.6
  and an unbound resolver pinned to each                                   <prefix>.56-.57
The API token of each is in a 0600 file ("lab status" shows where), never on a command line.
With --event-log nats, also a NATS JetStream cluster for the sidecars' event log:
  nats-1..3  nats-server, cluster "chorus", clients over TLS on :4222,   <prefix>.71-.73
             routes (mutual TLS) on :6222, HTTP monitoring on :8222
  stream CHORUS (subjects chorus.log.>, 3 replicas), created by the admin user; a CA and
  a certificate in <dir>/nats/tls/, one user per sidecar, operator and observer, each with
  a random password in <dir>/nats/credentials/<user>.creds (0600, "user:password")
Every server signs with algorithm 13 and NSEC unless --algorithm and --denial say otherwise.
Each signer and trap serves every zone with its own keys and publishes its own CDS/CDNSKEY;
only BIND's zones are delegated with a DS, and nothing is delegated to a trap.
broken.test. is delegated with a wrong DS as a negative control (SERVFAIL). Knot also serves
csk.test. (not delegated), signed by one CSK, for CSK rolls.
The registry agent (a Node process, NOTIFY on <prefix>.60) scans CDS/CDNSKEY and CSYNC at
every delegated nameserver each second and updates test. when they all agree and validate.
Refuses to start over a running lab or where something already answers DNS.
Progress goes to stderr; the status to stdout.

Options:
${DIRECTORY_OPTION}
  --address-prefix P      first three octets of the addresses (default: 127.53.0)
  --port N                DNS port of every server (default: 53; other ports need
                          stub zones, see the status' "delegation" note)
  --ttl S                 TTL of every record, in seconds (default: 30)
  --zones A,B             zones under test. (default: example.test)
  --zone-count N          N zones instead: example.test, z00001.test, … (at most 10000; start-up
                          grows with N, mostly PowerDNS's pdnsutil per zone, and is printed)
  --traps                 also start the four trap signers (default: off)
  --no-registry-agent     do not start the registry agent (the parent then changes only
                          by hand, e.g. nsupdate with the parent's TSIG key)
  --registry-interval-ms N
                          time between two scans of a zone by the agent (default: 1000)
  --key-lifetimes zsk=DURATION,ksk=DURATION
                          let the BIND and Knot signers roll their own keys after this
                          lifetime (either role or both; DURATION like 120, 120s, 5m, 1h,
                          2d; default: unlimited, keys roll only on request). BIND refuses
                          lifetimes shorter than a rollover takes: with TTL 30 at least
                          111 s for a ZSK and 51 s for a KSK. A KSK roll waits for the DS
                          at the parent (rndc dnssec -checkds). The status shows them
  --providers desec,ns1   also start the SaaS provider fakes (either or both, or "all")
  --registrar             also start the fake registrar: a registrar's REST API in front of
                          test. (<prefix>.61:8000), for parent.registrar in a sidecar; needs
                          --no-registry-agent (the agent's scans would put the DS back)
  --rate-limit P.CLASS=N/DURATION[,…]
                          tighten (or loosen) a fake's rate limits; the documented ones
                          apply by default. Classes: desec.read (10/1s+50/1m),
                          desec.write (per domain: 2/1s+15/1m+100/1h+300/1d), desec.user
                          (2000/1d), ns1.read (token bucket 900/300s), ns1.write
                          (300/300s), registrar.api (token bucket 60/1m). Several rates
                          join with +, e.g. desec.write=1/1s+5/1m
  --event-log sqlite|nats the sidecars' event log: sqlite (default, the demo's file) or nats
                          (start the 3-node NATS JetStream cluster; needs the Debian packages
                          nats-server and openssl)
  --denial nsec|nsec3     how every server (signers, providers, traps and the parent) denies
                          existence (default: nsec). nsec3: NSEC3PARAM 1 0 0 - everywhere
                          (SHA-1, no opt-out, 0 extra iterations, empty salt: RFC 9276)
  --algorithm 13|8        the algorithm of every key of every server (default: 13,
                          ECDSAP256SHA256); 8 is RSASHA256 with 2048-bit KSK and ZSK. The
                          parent's DS and the trust anchor follow. up waits until each server
                          serves only keys of this algorithm and denies with --denial
  --signalling            RFC 9615 signalling zones: bind, powerdns and knot each also serve
                          their own bind.test., powerdns.test., knot.test. (SOA, NS, the
                          address of ns.<id>.test.), signed like the lab's zones, writable the
                          same way (BIND and Knot: UPDATE with the server's TSIG key; PowerDNS:
                          its API), and delegated from test. with a DS, so that
                          _dsboot.<zone>._signal.ns.<id>.test. validates. The registry agent
                          then checks those signals through resolver-delegation before it
                          bootstraps a first DS. Needs port 53
  --owner                 model 1 (RFC 8901): knot also serves owner.test. with offline-KSK,
                          and with --providers ns1 the NS1 fake too (presigned, the apex NS
                          naming both); up makes the zone owner's KSK in a SoftHSM2 token of
                          the lab's own (PIN in a 0600 file), signs one first DNSKEY RRset
                          with it (its KSK, Knot's ZSK, NS1's ZSK) that each of them serves,
                          and delegates owner.test. to them with that KSK's DS. Needs softhsm2
  --insecure-zone NAME    also serve NAME under test. (repeatable) at bind, powerdns and knot,
                          each signing with its own keys, with all three NS names at the apex,
                          delegated to the three without DS: insecure, the starting point of
                          chorus bootstrap. The registry agent and the registrar include it
  --hosts loopback|netns  loopback (default): every server on this host's loopback. netns:
                          separate hosts, simulated: the parent, each signer (with its API
                          fake), the registry agent and each NATS node in a network namespace
                          of its own, on 198.18.0.0/15; a signer's namespace reaches the
                          other signers on port 53 only (the switch's nftables rules), and
                          this host, the parent, the registry agent and NATS. Needs root and
                          nftables; down deletes the namespaces
  --json                  print the status as JSON (schemaVersion 1)
  -h, --help              show this help

The BIND signer's dnssec-policy pre-publishes a new key for dnskey-ttl + publish-safety 15 +
zone-propagation-delay 5 (50 s at TTL 30) before it signs with it, and (at TTL 30) keeps
signatures valid for 10 minutes, so that a retired ZSK leaves the zone within two minutes.

Examples:
  chorus lab up --zones example.test,shop.test --ttl 10
  chorus lab up --key-lifetimes zsk=5m,ksk=1h
  chorus lab up --event-log nats
  chorus lab up --event-log nats --hosts netns
  chorus lab up --signalling --insecure-zone boot.test
`;

export const LAB_STATUS_HELP = `Usage: chorus lab status [options]

Shows every server and resolver of the lab (address, PID, alive, directory, config and log
files, control endpoint, TSIG key file, key store), the trust anchor, and for each trap the
misconfigured setting and what it breaks. Secret values are never shown, only the files that
hold them. Exits 1 when no lab state is found.

Options:
${DIRECTORY_OPTION}
  --json                  machine-readable status on stdout (LabStatus, schemaVersion 1)
  -h, --help              show this help

Example:
  chorus lab status --json | jq -r '.servers[] | select(.id=="powerdns") | .control.url'
`;

export const LAB_RESTART_HELP = `Usage: chorus lab restart [SERVER...] [options]

Stops the given servers of a running lab by PID (SIGTERM, then SIGKILL after 5 s; only a PID
that still runs the expected program) and starts them again with their existing config, keys
and data: nothing is regenerated. Waits until each serves its zones signed and its control
endpoint answers (a NATS node: until it is healthy and sees a JetStream meta leader, which needs
two of the three nodes), records the new PIDs in the state file and prints the status. A server
that had died is started again. Resolvers are not restarted.

Arguments:
  SERVER                  parent, bind, powerdns, knot, or a trap started with "up --traps"
                          (bind-inline-signing, powerdns-no-direct-dnskey, knot-full-management,
                          knot-zonefile-revert), a NATS node started with "up --event-log
                          nats" (nats-1, nats-2, nats-3), or registry-agent; default: every
                          server and NATS node of the lab and the registry agent

Options:
${DIRECTORY_OPTION}
  --json                  print the status as JSON (schemaVersion 1)
  -h, --help              show this help

Example:
  chorus lab restart bind knot
`;

export const LAB_DOWN_HELP = `Usage: chorus lab down [options]

Stops exactly the processes "lab up" (or "lab restart") recorded (SIGTERM, then SIGKILL after 5 s), each only if
its PID still runs the expected program, and removes the loopback addresses it added. With
the NATS event log it also removes the NATS credentials, certificates and JetStream stores.
Logs and configs stay in the directory. Nothing to stop is not an error.

Options:
${DIRECTORY_OPTION}
  -h, --help              show this help

Example:
  chorus lab down --dir /tmp/lab
`;

export const LAB_REGISTRY_AGENT_HELP = `Usage: chorus lab registry-agent [options]

The lab parent's registry agent, in the foreground: what "chorus lab up" starts as a lab
process (its PID, log and config are in "chorus lab status"). For every lab zone, every
second, it asks every address of every nameserver in the delegation from test. for CDS,
CDNSKEY, CSYNC, NS and DNSKEY (RD=0, DO=1, TCP), applies draft-ietf-dnsop-cds-consistency
(all servers agree, CDS and CDNSKEY agree, everything validates under the current DS, the new
DS still authenticates every delegated server, CSYNC immediate and type bitmap equal,
NS/A/AAAA equal) and then replaces the DS RRset, or the NS RRset and in-bailiwick glue, by
TSIG UPDATE of test. Any disagreement, unreachable server or validation failure: no change,
and the reason is logged. NOTIFY(CDS) or NOTIFY(CSYNC) to its address triggers a scan at once.
Each event is one JSON line on stdout. Stops on SIGTERM or Ctrl-C.

Options:
${DIRECTORY_OPTION}
  --config FILE           the agent's configuration (default: <dir>/registry-agent/agent.json,
                          written by "lab up")
  --interval-ms N         time between two scans of a zone (default: from the configuration)
  -h, --help              show this help

Example:
  chorus lab up --no-registry-agent && chorus lab registry-agent | jq -c 'select(.event!="notify")'
`;

export const QUERY_HELP = `Usage: chorus query NAME [TYPE] [options]

Asks one question and prints the rcode, the header flags and the RRsets. The DO bit is always
set, so a validating resolver reports AD ("authenticated data") for a validated answer.

Options:
  TYPE                    record type (default: A)
  --server ADDR[:PORT]    ask this server directly, without recursion (RD=0; port default 53)
  --recurse               with --server: set RD, for a server that is a resolver
  --resolver              ask the lab's delegation resolver (the default)
${DIRECTORY_OPTION.replace('lab directory', 'lab directory for --resolver')}
  --dnssec                also print RRSIG records
  --tcp                   use TCP instead of UDP
  --json                  machine-readable answer on stdout
  -h, --help              show this help

Examples:
  chorus query www.example.test --resolver
  chorus query example.test DNSKEY --server 127.53.0.3 --dnssec
`;

export const AUDIT_HELP = `Usage: chorus audit ZONE [options]

Checks ZONE as any resolver could see it, from the public DNS alone (no event log, no
credentials), knowing that in a multi-signer zone (RFC 8901 model 2) each provider signs with
its own keys. Asks every parent server for the delegation (NS, glue, DS), then every address of
every NS name (delegated or at the apex) directly (RD=0, DO=1, TCP) for the apex SOA, NS,
DNSKEY, CDS, CDNSKEY, CSYNC, NSEC3PARAM and a nonexistent name. One row per check:
  reachable            every parent server and every child address answers
  dnskey-consistent    every DNSKEY RRset holds the keys that sign what any address serves
                       (RRsets that differ only in keys nothing needs, such as each
                       provider's own KSK, are a warning; so is CDS/CDNSKEY signed by a
                       KSK alone that another RRset lacks)
  ds-ksk               the parent's DS authenticates the DNSKEY RRset at every address; a DS
                       for a key published nowhere is a warning
  cds-consistent       CDS, CDNSKEY and CSYNC alike at every address, CDS matches CDNSKEY,
                       and the DS set they ask for breaks no address
  ns-agree             the parent's NS set is every apex NS set, and the glue matches
  denial               NSEC or NSEC3 everywhere; mixed methods or NSEC3PARAM are a warning
  signature-lifetimes  every RRSIG is valid now and outlives its RRset's TTL
  key-tags             no two different DNSKEYs share a key tag
Exits 0 when no check fails (warnings do not fail), 1 when one fails (an unreachable server is
a failing row), 2 on a command-line mistake.

Options:
  --parent-server ADDR[:PORT]
                          a parent nameserver address (repeatable; [ADDR]:PORT for IPv6);
                          default: the parent zone's NS through the system resolver
  --parent-zone Z         the parent zone (default: ZONE minus its first label)
  --port N                DNS port of the zone's nameservers (default 53)
  --timeout MS            per-query timeout (default 2000)
  -4, --ipv4              ask only IPv4 addresses (a host without IPv6 would see every IPv6
                          address as unreachable, a failing row); -6, --ipv6: only IPv6
  --json                  one JSON document: each check with status pass/warn/fail, servers
                          and details
  -h, --help              show this help

Examples:
  chorus audit example.com
  chorus audit example.test --parent-server 127.53.0.1 --json
`;

export const DEMO_HELP = `Usage: chorus demo [options]

The migration demo. Brings the lab up (a fresh one: a lab running in the directory is stopped
first), starts one sidecar process per signer on an embedded event log, and migrates
example.test from BIND alone to PowerDNS + Knot: add PowerDNS, add Knot, remove BIND; BIND's
server is switched off as soon as Chorus says it may stop serving. Meanwhile, independent
observers watch: the consistency observer samples every server each second and checks the
invariants I1–I9, the validation observer validates every provider (with every DS and DNSKEY
version a resolver may still hold in its cache) and cross-checks unbound, and validating
resolvers query every provider clients could reach 8 times a second. Each step is printed as it
happens; the summary shows the steps, the time spent in mandated waits, and every glitch and
disagreement seen (there must be none). The timeline report is written to
DIR/demo/report/report.html.

With --scenario rollovers, the group of three lives on instead: add PowerDNS, add Knot, then a
ZSK roll at Knot (server-timed: Knot times it, Chorus follows), a KSK roll at PowerDNS through
the parent (held: Chorus drives each step, the parent's DS holds both KSKs until the old one
goes), then ZSK rolls at BIND and Knot at the same time (each holds only its own keys): BIND's
begun by BIND itself (rndc, outside Chorus) and followed through the key watch, each checked on
the wire and watched the same way.

With --scenario saas, the lab also starts its SaaS provider fakes (deSEC and NS1 REST APIs, each
in front of a real PowerDNS that signs and serves the zone) and the zone moves from BIND to
deSEC + NS1 (add deSEC, add NS1, remove BIND), then from deSEC to Knot (add Knot, remove deSEC).
The deSEC sidecar writes one atomic bulk request per step and honours the API's rate limits.

With --scenario bootstrap, the lab also gives each signer a signed signalling zone (bind.test.,
powerdns.test., knot.test.) and delegates boot.test to all three without DS, each serving it
signed with its own keys. "chorus bootstrap" then takes it to a signed group of three (RFC 9615):
key sync, signals under _dsboot.boot.test._signal.ns.<signer>.test., the registry agent
authenticating them through a validating resolver before it writes the DS, and the signals
withdrawn. Answers without AD before the DS reached every cache are counted as insecure, not as
failures; a SERVFAIL is a failure at any time, and from the first DS on every invariant holds.

With --scenario model1, owner.test. runs in RFC 8901 model 1: Knot (offline-KSK) and the NS1
fake serve one DNSKEY RRset that the zone owner signs with a KSK made in the lab's SoftHSM2
token. The demo runs the owner (it signs whenever a member's plan changes, and refreshes before
its signatures run out) and plays the person at the parent (it makes each DS change exactly as
Chorus shows it). Knot's ZSK rolls (M1-ZSK), then the owner's KSK (M1-KSK, double signature,
with a second KSK made in the token), then NS1 leaves (M1-REMOVE; it keeps its server, as it
joins again) and joins again (M1-ADD; the lab's registry agent follows each CSYNC), then the
demo waits for a refresh. --unsafe-owner-lapse is its negative control: no rolls, and the owner
stops signing until its signatures expire; --unsafe-skip-wait add-signer/push-owner-set lets
NS1 be reached while caches still hold the owner's set without its ZSK.

Options:
  --scenario NAME         migration (default), rollovers, held-roll (BIND and PowerDNS, then
                          only PowerDNS's ZSK roll: the shortest roll scenario),
                          held-ksk-roll (the same with PowerDNS's KSK), or saas (BIND to
                          deSEC + NS1 through the lab's provider fakes, then deSEC to Knot),
                          or saas-join (deSEC joining BIND only: the short SaaS run), or
                          bootstrap (boot.test from unsigned to BIND + PowerDNS + Knot), or
                          stop-undo (PowerDNS joins; Knot's join is stopped after sync-ns and
                          undone; BIND's leave is stopped after publish-csync and undone;
                          PowerDNS's ZSK roll is stopped after activate-successor and its KSK
                          roll after sync-dnskeys, and both are rolled back), or model1
                          (owner.test. at Knot + NS1 under the owner's KSK: a ZSK roll, the
                          owner's KSK roll, NS1 leaving and joining again, and a refresh), or
                          model1-roll (the same zone, only Knot's ZSK roll and a refresh: the
                          short model-1 run for controls)
  --rate-limit P.CLASS=N/DURATION[,…]
                          tighten the provider fakes' rate limits, as "lab up --rate-limit"
                          (e.g. desec.write=1/8s): the deSEC sidecar waits for its quota,
                          says so in the progress and in "chorus status", and loses nothing
  --event-log KIND        sqlite (default: one file in the demo directory) or nats (the lab's
                          3-node NATS JetStream cluster, TLS, credentials of its own for each
                          sidecar, the operator and the observers)
  --hosts loopback|netns  netns: each signer's server and its sidecar on a simulated host of
                          their own (a network namespace that reaches the other providers on
                          port 53 only, and the parent and NATS), as "lab up --hosts netns";
                          needs root
  --denial nsec|nsec3     the lab's denial of existence, as "lab up --denial" (default nsec;
                          nsec3: NSEC3PARAM 1 0 0 - at every server)
  --algorithm 13|8        the lab's DNSSEC algorithm, as "lab up --algorithm" (default 13,
                          ECDSAP256SHA256; 8: RSASHA256, 2048-bit keys)
  --parent scanner|registrar
                          who changes the parent: the lab's CDS/CSYNC scanner, told by NOTIFY
                          (default), or the fake registrar's REST API, which the sidecars send
                          the group's DS and NS to (parent.registrar; no scanner runs)
  --dir DIR               lab directory (default $CHORUS_LAB_DIR, else ./.lab)
  --address-prefix P      first three octets of the lab addresses (default 127.53.0)
  --ttl S                 TTL of every record in the lab, in seconds (default 30). The waits
                          scale with it: --ttl 10 runs the whole migration in about 2 minutes.
  --json                  print the summary as JSON on stdout (the human summary goes to stderr)
  --unsafe-skip-wait KIND/STEP
                          UNSAFE, for negative controls: skip the mandated wait after STEP in
                          every KIND process, to show the observers catching the glitch that
                          follows. One of add-signer/await-parent-ds (the DS and DNSKEY wait
                          before NS publication), add-signer/await-parent-ns,
                          remove-signer/await-parent-ns (the NS wait before the leaving signer
                          stops), remove-signer/retire-leaving-signer, remove-signer/await-parent-ds,
                          roll-zsk/sync-dnskeys (the DNSKEY wait before the successor signs),
                          roll-zsk/activate-successor (the signature wait before the predecessor
                          goes), roll-ksk/await-parent-ds (the DS and DNSKEY wait before the old
                          KSK goes), roll-ksk/await-parent-ds-removed; in model 1
                          roll-zsk/push-owner-set, roll-ksk/introduce-owner-ksk,
                          add-signer/push-owner-set and remove-signer/retire-leaving-signer.
                          Repeatable.
                          Never available outside the demo.
  --unsafe-owner-lapse    UNSAFE, with --scenario model1: no rolls; the owner stops signing
                          after its first set, so its signatures lapse (I8 names the late
                          refresh, then resolvers fail)
  -h, --help              this text

Exit status: 0 when the scenario completed with no glitch (no resolver failure, no invariant
violation, no validation failure) and no disagreement with unbound, and the parent holds exactly
the final group's DS and NS (migration: PowerDNS and Knot; rollovers: all three; saas: NS1
and Knot; model1: the owner's KSK, Knot and NS1); 1 otherwise
(a negative control exits 1 by design).

Examples:
  chorus demo && chorus status --log .lab/demo/events.sqlite
  chorus demo --ttl 10 --unsafe-skip-wait add-signer/await-parent-ds
  chorus demo --scenario rollovers --ttl 10
  chorus demo --scenario model1 --ttl 5
`;

const LOG_OPTION = `  --log FILE              the event log the sidecars share; default $CHORUS_EVENT_LOG: a
                          SQLite file (it must exist: the sidecars create it), or a .json
                          file naming a NATS log ({ "kind": "nats", "servers": […],
                          "credentialsFile": …, "caFile": … }, as a sidecar config's eventLog)
  --trust FILE            the operators' trust file; default $CHORUS_TRUST. Without it
                          nothing is verified and the output says NOT VERIFIED
  --key FILE              your operator event key (chorus keygen); default
                          $CHORUS_OPERATOR_KEY. Everything you append is signed with it`;
const JSON_OPTION = `  --json                  machine-readable output on stdout (progress stays on stderr)`;
const HELP_OPTION = `  -h, --help              show this help`;

export const SIDECAR_HELP = `Usage: chorus sidecar --config FILE

Runs the sidecar of one signer in the foreground: it registers the signer and its keys in each
zone's stream, follows the stream, changes only its own server, observes the public DNS, and
records what it does. Stop it with SIGTERM or Ctrl-C. The config file (signer plugin, zones,
event log, parent, optional observers) is described in docs/sidecar.md.

With many zones: the sidecar reads each zone's keys every keyWatchSeconds, but at most
keyWatchPerSecond zones a second (default 50), so 1,000 zones are read every 20 s; the period
in force is logged as keyWatchEverySeconds in "sidecar started". A sidecar that cannot keep
that period says "key watch is behind its period" (at most once a minute) and counts
"key watch late" in its call tally. Changes to the server wait
for the plugin's concurrent-changes slots (maxConcurrentChanges overrides them).

Signals:
  SIGTERM, SIGINT  stop: abort the calls in flight (the log says where to resume) and exit 0,
                   logging the calls made to servers ("sidecar stopped")
  SIGUSR2          log the calls made to servers so far, the memory in use and the heap
                   kept after a full garbage collection ("call tally")

Options:
  --config FILE           the sidecar configuration (JSON)
${HELP_OPTION}

Example:
  chorus sidecar --config /etc/chorus/bind.json
`;

const TIMING_OPTIONS = `  --record-ttl S          TTL of the records Chorus adds, seconds (default 3600)
  --max-zone-ttl S        TTLsig, the largest TTL in the zone(s), seconds (default 3600)
  --child-propagation S   DprpC, seconds (default 2)
  --parent-propagation S  DprpP, seconds (default 2)
  --safety-margin S       S, added to every wait, seconds (default 2)`;

export const ZONE_HELP = `Usage: chorus zone define ZONE --signer ID [--signer ID…] [options]
       chorus zone define ZONE… --group G [options]
       chorus zone model ZONE --to 1|2

  define   record the group that signs ZONE now (see "chorus zone define --help")
  model    move ZONE between RFC 8901's models: prints the safe order and why it cannot run
           (see "chorus zone model --help")
`;

export const ZONE_MODEL_HELP = `Usage: chorus zone model ZONE --to 1|2 [--json] [options]

Asks to move ZONE from RFC 8901 model 2 (each provider's KSK signs its own DNSKEY RRset) to
model 1 (the owner's KSK signs one RRset every provider serves), or back, without going
insecure. Prints the safe order (a double DS around the step where each member changes who
signs its DNSKEY RRset) and every reason the move cannot run now, then exits 1; nothing is
recorded. Today the move is always refused: most plugins cannot change who signs the DNSKEY
RRset of a zone their server is serving, and no process drives that step; members that cannot serve an owner-signed RRset at
all (BIND 9.18, PowerDNS 4.7, deSEC) are named with their reason.

Options:
  --to 1|2                the model to move to
  --json                  one JSON object on stdout: zone, from, to, order, refused, reasons
${LOG_OPTION}
${HELP_OPTION}

Exit status: 1 when refused (always, today), 2 on a usage error.

Example:
  chorus zone model example.test. --to 1 --log events.sqlite
`;

export const ZONE_DEFINE_HELP = `Usage: chorus zone define ZONE --signer ID [--signer ID…] [options]
       chorus zone define ZONE… --group G [options]

Records the group that signs ZONE now. Each signer's sidecar must have registered first (start
the sidecars; they create the log). A zone is defined once.

Adoption: with two or more signers, the group is taken over as it stands (a zone signed by
several providers by hand, RFC 8901 model 2), and checked on the wire first. Every registered
address of every signer and every parent server is asked directly: each address must answer
for ZONE; each signer's DNSKEY RRset must hold every member's ZSKs/CSKs and its own KSK; each
apex NS set and the parent's NS set must be the union of the members' registered NS names (glue
at the parent pointing at their owners); the parent's DS must name every member's KSK/CSK and
no other key, alike at every parent server; CDS/CDNSKEY, where published, must match the
parent's DS (else a scanner would change the DS); the content digests the sidecars recorded
must agree. Any finding refuses the definition (exit 1, nothing recorded), each naming the
signer, the address and the records to change. Otherwise "zone-defined" records the adoption:
which NS names belong to which signer, as observed. The parent servers are the ones given with
--parent-server, else the parent zone's nameservers as the system resolver finds them. A
single signer is recorded without a wire check.

With --group G (see "chorus group define --help") every ZONE given is defined with the group's
signers and timing (timing options given here win) and added to the group, so that one request
("chorus signer add --group G …") reaches them all. A zone that cannot be defined is named and
the others go on (exit 1); a zone already defined in G is added again harmlessly. A group of
two or more signers is adopted zone by zone: a zone that is not consistent is named with its
findings, and the others go on.

Timing: Chorus waits before each step that could break validation for a cache still holding
the old data. Most waits use TTLs observed on the wire when the step's change was seen (the DS
and NS TTLs at the parent, the DNSKEY and NS TTLs at the signers, the larger of old and new), so
they follow the zone's real TTLs. Two things are yours to declare:
  --max-zone-ttl is TTLsig, the largest TTL any answer from the zone can carry: every RRset,
    and negative answers (the smaller of the SOA TTL and the SOA MINIMUM). Chorus cannot observe
    it. After a REMOVE-SIGNER's leaving signer stops serving, its keys stay published for
    DprpC + TTLsig + S, so caches can drop what it signed. Too small and resolvers may fail to
    validate after a removal; too large only makes that wait longer. The pre-flight checks also
    refuse a change when a member's signatures expire within TTLsig + S.
  --record-ttl is the TTL Chorus gives the records it adds to each signer: the other signers'
    DNSKEYs, CDS/CDNSKEY, CSYNC and the apex NS. The waits after those changes observe it on the
    wire, so a smaller value makes processes quicker. Keep it at most --max-zone-ttl.
The propagation delays are how long a change takes to reach every server that answers:
  --child-propagation DprpC, every server of every signer (secondaries, anycast nodes);
  --parent-propagation DprpP, every server of the parent.

Options:
  --signer ID             a signer that serves the zone now (repeatable; at least one)
  --group G               take the signers and timing from group G, and add the zones to it
  --parent-zone Z         the parent zone (default: ZONE minus its first label)
  --parent-server A[:P]   an address of a parent nameserver to ask when adopting a group
                          (repeatable; give every one; IPv6 as [A]:P). Default: the parent
                          zone's NS addresses through the system resolver
  --owner-dnskey TEXT     model 1 (RFC 8901 §2.1.1): the zone owner's KSK as DNSKEY rdata
                          ("257 3 13 BASE64"; repeatable). Every signer then serves the one
                          DNSKEY RRset the owner signs ("chorus owner ZONE"); without it,
                          model 2
  --owner-validity S      how long an owner signature lasts (default 1209600, two weeks)
  --owner-refresh-lead S  the owner re-signs when less than this is left (default half the
                          validity); a served signature with less left is an I8 finding
${TIMING_OPTIONS}
${LOG_OPTION}
${JSON_OPTION}; a refused adoption prints its findings
                          as { zone, defined: false, findings: [{ code, message }] }
${HELP_OPTION}

Example:
  chorus zone define example.com --signer bind --max-zone-ttl 86400 --record-ttl 3600 --log events.sqlite
  chorus zone define example.com --signer bind --signer powerdns --parent-server 192.0.2.1 --log events.sqlite
  chorus zone define a.example b.example c.example --group customers --log events.sqlite
`;

export const GROUP_HELP = `Usage: chorus group define|show G [options]

  define   define group G: the signers and timing its zones get (see "chorus group define --help")
  show     show group G: its signers, timing and zones
`;

export const GROUP_DEFINE_HELP = `Usage: chorus group define G --signer ID [--signer ID…] [options]

Defines group G, a named set of zones signed by the same signers that follow one request
together (MUSIC's signer group): "chorus zone define ZONE… --group G" defines zones with the
group's signers and timing and adds them; "chorus signer add|remove --group G", "chorus migrate
--group G" and "chorus roll --group G" then run on every zone of the group from one command;
"chorus status --group G" sums the group up. Defining G again replaces its signers and timing
for zones defined later; zones already defined keep their own. The group lives in the event log
(stream group/G), written by operators only: with a trust file, events no trusted operator
signed are ignored and shown as refused. Sidecars never read it; each zone's own stream stays
what they act on.

Options:
  --signer ID             a signer that signs the group's zones (repeatable; at least one)
${TIMING_OPTIONS}
${LOG_OPTION}
${JSON_OPTION}
${HELP_OPTION}

Example:
  chorus group define customers --signer bind --max-zone-ttl 86400 --log events.sqlite
`;

export const GROUP_SHOW_HELP = `Usage: chorus group show G [options]

Shows group G: its signers, timing and zones, and any group event refused because no trusted
operator signed it. Exits 1 when G was never defined.

Options:
${LOG_OPTION}
${JSON_OPTION}
${HELP_OPTION}

Example:
  chorus group show customers --log events.sqlite
`;

const REFUSAL_NOTE = `A request that would break validation (removing the last signer, a joiner with another
algorithm or different zone content, adding a member twice, …) is refused before any change,
with the reason, and the command exits 1. So does a process that fails or holds for the
operator (a signer error that retrying cannot fix, such as a wrong TSIG key).`;

export const SIGNER_HELP = `Usage: chorus signer add|remove ZONE SIGNER [options]
       chorus signer add|remove --group G SIGNER [options]

  add      run ADD-SIGNER and follow it (see "chorus signer add --help")
  remove   run REMOVE-SIGNER and follow it (see "chorus signer remove --help")
`;

const GROUP_OPTIONS = `  --group G               run it on every zone of group G instead of one ZONE (leave ZONE
                          out): one CLI process paces the zones, prints a progress line every
                          5 s, and ends when every zone has; zones where it is already so
                          are skipped; exit 1 names each zone that did not complete
  --parallel N            with --group: zones in flight at once (default 20)`;

const SIGNER_OPTIONS = `Options:
  --detach                return once the sidecars accepted or refused the request
${GROUP_OPTIONS}
${LOG_OPTION}
  --json                  each event as one JSON line on stdout (progress stays on stderr)
${HELP_OPTION}`;

export const ROLL_HELP = `Usage: chorus roll ZONE SIGNER --zsk|--ksk|--csk|--algorithm [options]
       chorus roll --group G SIGNER --zsk|--ksk|--csk [--parallel N] [options]

Requests a key roll by SIGNER inside the group that signs ZONE, and follows it. --zsk runs
ROLL-ZSK (pre-publish, standards §7.3): SIGNER's server introduces a successor ZSK, every other
signer publishes it, Chorus waits DprpC + TTLkey + S, the successor signs, Chorus waits
DprpC + TTLsig + S, and the predecessor leaves every DNSKEY RRset. Each step is checked on the
wire at every address. A server that holds new keys until told (PowerDNS) is driven step by
step; a server that times its own rolls (BIND dnssec-policy, Knot) is followed, and must
pre-publish for longer than the group's DNSKEY wait (checked at "zone define", at sidecar
start and here). A roll the server begins on its own is followed the same way without this
command: the signer's key watch requests it.

--ksk (--csk in a zone signed by CSKs alone) runs ROLL-KSK (double-KSK, standards §7.4):
SIGNER's successor signs the DNSKEY RRset beside the predecessor, every signer publishes it and
the one CDS/CDNSKEY set for every KSK, Chorus waits for the parent's DS set to hold both, then
max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S, and the predecessor leaves every
DNSKEY, CDS and DS set. That is how a signer that holds keys until told (PowerDNS) rolls. BIND
and Knot time their own KSK rolls: Chorus asks the server to roll (rndc dnssec -rollover, knotc
zone-key-rollover), every other signer publishes the successor and then mirrors the CDS/CDNSKEY
the server moves to it after its own pre-publication interval, Chorus waits for the parent's DS
set to follow, then t_ds + DprpP + TTLds + S, and only then tells the server (rndc dnssec
-checkds, knotc zone-ksk-submitted), which retires the predecessor. A server-timed signer whose
plugin cannot tell its server that the DS changed is refused with the reason. --algorithm is
refused, naming the missing capability.

In a model-1 zone (its definition names an owner KSK) --zsk runs M1-ZSK (standards §7.5):
SIGNER's server plans a successor it holds published and inactive (Knot offline-KSK: keymgr
timers), the owner ("chorus owner", which must run) signs a DNSKEY RRset with it, every member
serves that set, Chorus waits DprpC + TTLkey + S, the successor signs, Chorus waits
DprpC + TTLsig + S, the predecessor leaves SIGNER's plan, and every member serves the owner's
set without it. The owner's KSK rolls with SIGNER "owner" (M1-KSK, double signature):
"chorus roll ZONE owner --ksk --new-owner-dnskey '257 3 13 …'" has the owner (running with
both keys) sign the set with the old and the new KSK, waits until every member serves it and
then t_push + DprpC + TTLkey + S, waits for the parent's DS to name the new KSK alone (the
parent channel, or a person told the exact records in "chorus status"), then
t_ds + DprpP + TTLds + S, and has the owner sign with the new KSK alone. A member's --ksk is
refused there: the KSK is the owner's.

Rolls at different signers run together (each holds only its own keys); a second roll at the
same signer, a second KSK roll (the parent's DS is shared) and a roll during ADD/REMOVE-SIGNER
are refused, naming the process in flight.

${REFUSAL_NOTE}

${SIGNER_OPTIONS}
  --new-owner-dnskey RDATA
                          model 1, with SIGNER "owner" and --ksk: the owner's new KSK, public
                          only ("257 3 13 …")

Examples:
  chorus roll example.com powerdns --zsk --log events.sqlite
  chorus roll example.com powerdns --ksk --json --log events.sqlite
  chorus roll --group customers powerdns --zsk --parallel 50 --log events.sqlite
  chorus roll owner.test owner --ksk --new-owner-dnskey '257 3 13 mdsswUyr3…' --log events.sqlite
`;

export const SIGNER_ADD_HELP = `Usage: chorus signer add ZONE SIGNER [options]
       chorus signer add --group G SIGNER [--parallel N] [options]

Requests ADD-SIGNER (RFC 8901 model 2): SIGNER joins the group that signs ZONE. Its sidecar
must be running and registered. The sidecars check the request, then run the steps: exchange
DNSKEYs, publish CDS/CDNSKEY, wait for the parent's DS, wait for caches, publish NS and CSYNC,
wait for the parent's NS. Every event is printed as it happens; the command ends with the
process. If no sidecar answers within 15 s it says so; the request stays pending.

On a model-1 zone (its definition names an owner KSK) the steps are M1-ADD: the owner signs a
DNSKEY RRset with the joiner's ZSKs ("chorus owner" must be running), every signer and the
joiner serve it, caches refresh, then the NS and CSYNC steps. The parent's DS does not change.
The joiner's sidecar must have listed the ZSKs it would sign with (it does at its first
key-watch round).

${REFUSAL_NOTE}

${SIGNER_OPTIONS}

Example:
  chorus signer add example.com knot --log events.sqlite
`;

export const SIGNER_REMOVE_HELP = `Usage: chorus signer remove ZONE SIGNER [options]
       chorus signer remove --group G SIGNER [--parallel N] [options]

Requests REMOVE-SIGNER: SIGNER leaves the group that signs ZONE. Every signer withdraws its NS
and the parent drops it; once no cache can still send a resolver to it, Chorus says so plainly:
">>> SIGNER may stop serving now" on stderr, and with --json a line {"notice":"leaving-signer",
…,"mayStopServingNow":true}. Keep the leaving server answering until then; from then on, stop
it serving ZONE. It still holds the other signers' DNSKEYs and NS, so never let it answer for
ZONE again. The process then waits until caches dropped what the leaving keys signed
(DprpC + TTLsig + S), has the parent drop its DS, and removes its keys from the others.

On a model-1 zone the steps are M1-REMOVE: the same NS and CSYNC steps, the same wait for its
signatures to leave every cache, then the owner signs a DNSKEY RRset without the leaving
signer's ZSKs ("chorus owner" must be running). The parent's DS does not change.

${REFUSAL_NOTE}

${SIGNER_OPTIONS}

Example:
  chorus signer remove example.com bind --log events.sqlite
`;

export const MIGRATE_HELP = `Usage: chorus migrate ZONE --to B[,C] [--from A[,…]] [options]
       chorus migrate --group G --to B[,C] [--from A[,…]] [--parallel N] [options]

Moves ZONE between signers without going insecure: ADD-SIGNER for every --to signer, then
REMOVE-SIGNER for every --from signer, one process at a time, each followed as by "chorus
signer add|remove". Stops at the first refusal or failure (exit 1); what completed stays done.

${REFUSAL_NOTE}

Options:
  --to B[,C]              the signers to add (at least one)
  --from A[,…]            the signers to remove afterwards
${GROUP_OPTIONS}
                          (each zone runs its adds and removes in order)
${LOG_OPTION}
  --json                  each event as one JSON line on stdout (with --group: one outcome
                          per zone, then a summary)
${HELP_OPTION}

Examples:
  chorus migrate example.com --to powerdns,knot --from bind --log events.sqlite
  chorus migrate --group customers --to powerdns,knot --from bind --log events.sqlite
`;

export const OWNER_HELP = `Usage: chorus owner ZONE (--owner-key FILE | --owner-hsm CONFIG.json)… [options]

Model 1 (RFC 8901 §2.1.1): runs the zone owner of ZONE, whose definition names the owner's KSKs
(chorus zone define --owner-dnskey). Every --interval it folds the zone's stream and signs the one
DNSKEY RRset every member serves (their planned ZSKs and the owner's KSK) when:
  - nothing is signed yet;
  - a member's planned ZSKs changed (a ZSK roll, a member joining or leaving);
  - the newest signature would soon have less than the zone's refresh lead left (it signs
    earlier by the time a new set takes to reach every member: the slowest key watch, DprpC
    and S), so that no member ever serves a late signature (I8).
Each signature lasts the zone's signature validity, plus what a cache may keep (TTL + DprpC + S).
It appends the signed RRsets (dnskey-set-signed, signed with your operator key); each member's
sidecar has its server serve them byte for byte. Sidecars apply only RRsets whose every RRSIG
verifies with an owner KSK of the zone's definition. The KSK signs nothing else; no part of it
enters the log, a log line or an error.

For the owner's KSK roll (chorus roll ZONE owner --ksk --new-owner-dnskey …) give both keys
(the options repeat): it signs with the old and the new KSK, and with the new one alone once
the parent's DS names it and the old DS has left every cache.

Options:
  --owner-key FILE        the owner's KSK: a PKCS#8 PEM file of mode 0600 (P-256, Ed25519 or
                          RSA); repeatable
  --owner-hsm FILE        the owner's KSK in an HSM: a JSON file {"module", "tokenLabel",
                          "keyId", "pinFile" or "pinEnv", "env"} (chorus lab up --owner prints
                          the lab's SoftHSM2 token); repeatable
  --interval SECONDS      how often to look (default 2); a look that fails (the log busy, a
                          key the set needs not given) is said on stderr and tried again
  --once                  look once, sign if due, and exit (1 when the look fails)
${LOG_OPTION}
${HELP_OPTION}

Example:
  chorus owner owner.test --owner-hsm owner-hsm.json --log events.sqlite --key operator.key
`;

export const STOP_HELP = `Usage: chorus stop ZONE [--process ID] [--reason TEXT] [options]

Ends the process in flight for ZONE at its next safe point, and follows it until it has
stopped. A safe point is one of:
  - between two steps: the step in progress finishes, its post-condition observed on the wire
    and its wait over, and the next step does not start;
  - inside a step that changes nothing itself (waiting for the parent's DS or NS, or the marker
    after which a leaving signer may stop serving): the zone stays as the step before left it;
  - inside a step a signer cannot apply (the process needs the operator): each change of a step
    is safe on its own, so the signers that applied it may keep it.
The group stays the one before the process; what the stopped process published stays published
until "chorus undo ZONE" reverses it. The log records process-stop-requested (who asked, and
why) and process-stopped (the first step not run).

Options:
  --process ID            the process to stop, when several are in flight (see chorus status)
  --reason TEXT           why, recorded in the log
${LOG_OPTION}
  --json                  each event as one JSON line on stdout
${HELP_OPTION}

Example:
  chorus stop example.test --reason "wrong signer" --log events.sqlite
`;

export const UNDO_HELP = `Usage: chorus undo ZONE [options]

Runs the reverse of the last stopped process of ZONE, from wherever it stopped, and follows it
as "chorus signer add|remove" do: a stopped ADD-SIGNER of X is undone by REMOVE-SIGNER of X
(X leaves the NS sets, the CDS and the DNSKEY RRsets it may have entered), a stopped
REMOVE-SIGNER of L by ADD-SIGNER of L (L's keys, DS and NS come back; L must still serve the
zone). The undo has the reverse process's steps, waits and wire checks, and its pre-flight;
when it cannot run safely it is refused with the reason (for example a leaver that no longer
answers). A stopped ZSK or KSK roll of a signer that holds its keys (held mode) is rolled back:
a roll of the same role whose successor is the stopped roll's predecessor, which signs again,
while the key the stopped roll introduced leaves every signer (and the parent's DS, for a KSK),
with a roll's waits. A roll the server times itself, a roll whose predecessor is gone already,
and a bootstrap cannot be undone, and say why.

Options:
  --detach                return once the sidecars accepted or refused the undo
${LOG_OPTION}
  --json                  each event as one JSON line on stdout
${HELP_OPTION}

Example:
  chorus undo example.test --log events.sqlite
`;

export const BOOTSTRAP_HELP = `Usage: chorus bootstrap ZONE --signer ID [--signer ID…] [options]

Takes ZONE from unsigned at the parent to a signed multi-signer group, without a manual DS
and without a leap of faith (RFC 9615 authenticated bootstrapping, RFC 8901 model 2). ZONE must
be delegated to exactly the signers' NS names, with no DS, and each signer must serve it signed
with its own keys (validators treat it as insecure until the DS appears). Defines ZONE with the
--signer signers when it is not defined yet (no adoption check: the group is not consistent
yet), then runs BOOTSTRAP and follows it:
  1. sync-dnskeys      every signer publishes every other signer's keys and the group's
                       CDS/CDNSKEY and NS set
  2. publish-signals   every signer copies the group's CDS/CDNSKEY to
                       _dsboot.ZONE._signal.NS for each of its NS names, in its signalling
                       zone (the plugin's signallingZone: signed and securely delegated)
  3. await-parent-ds   the parent authenticates the signals through a validating resolver
                       and publishes the DS (a NOTIFY(CDS) to its DSYNC target asks it to look)
  4. withdraw-signals  the signals are removed

Refused before any change (exit 1) when the parent already holds a DS, when the delegation
names other NS than the group's, when every NS name is inside ZONE, or when a signer cannot
publish signals (its plugin's bootstrap-signal capability says why).

Options:
  --signer ID             a signer of the group (repeatable); leave out for a defined zone
  --parent-zone Z         the parent zone (default: ZONE minus its first label)
${TIMING_OPTIONS}
  --detach                return once the sidecars accepted or refused the request
${LOG_OPTION}
  --json                  each event as one JSON line on stdout
${HELP_OPTION}

Examples:
  chorus bootstrap boot.test --signer bind --signer powerdns --signer knot --log events.sqlite
  chorus status boot.test --log events.sqlite
`;

export const STATUS_HELP = `Usage: chorus status [ZONE] [options]
       chorus status --group G [options]

For each zone (or ZONE only): the group, each process in flight with its step and what it
waits for and until when (processes run together when they hold disjoint resources, such as
ZSK rolls at different signers), a signer failing to apply a step (its last error, how many attempts,
whether it retries), a process that holds for the operator, pending requests no sidecar has
started yet, registrations that changed a signer's endpoints or names, when a leaving signer
may stop serving, for a key roll whose keys it replaces and who times it, key findings (a
member's key that left its DNSKEY RRset without a roll), and the last few processes. Exits 1 for an unknown zone or a log with none.
For a model-1 zone also: the owner's KSK, what it signed last, until when and when its refresh is
due, what the owner does next (sign now, or what it waits for), and each member's planned ZSKs.

With --group G: the group summed up instead: how many zones are at each step of each process
(or pending, or idle), the earliest and latest end of the waits in progress, and every zone
that holds for the operator or whose last process was refused or failed, with the reason.

Options:
  --group G               the summary of group G's zones
${LOG_OPTION}
${JSON_OPTION}
${HELP_OPTION}

Example:
  chorus status example.com --log events.sqlite
  chorus status --group customers --log events.sqlite
`;

export const EVENTS_HELP = `Usage: chorus events ZONE [options]

Prints ZONE's stream: one line per event with its version, time and what happened (with
--json, each recorded event as one JSON line). Exits 1 when the log has no such zone, listing
the zones it has. The observers' findings are in "chorus report".

Options:
${LOG_OPTION}
  --json                  each recorded event as one JSON line on stdout
${HELP_OPTION}

Example:
  chorus events example.com --log events.sqlite --json | jq -r .event.type
`;

export const STATS_HELP = `Usage: chorus stats [ZONE] [options]
       chorus stats --group G [options]

Statistics from the event log, for every zone in it (or ZONE only, or group G's zones):
  processes      by kind and outcome: completed, failed, blocked, stopped, running, holding
                 for the operator, pending
  durations      per kind of completed process: the count, the median and longest total
                 seconds, and the sums of the total, the mandated waits (from each
                 post-condition to the wait's end), the time waiting for the parent
                 (await-parent steps) and Chorus's overhead (total - waits - parent)
  observations   glitches: invariant violations by invariant, validation failures and
                 disagreements with a validating resolver; the observers' own totals
  retries        signer-apply-failed events by signer and error (the message's first line):
                 how many, how many retryable, and the attempts they stand for
  writes         steps each signer applied and the changes they took; NOTIFYs to the
                 parent, changes submitted through a parent channel and asked of a person
With a trust file, events the fold refuses count nowhere (only their number is shown);
observations are counted as recorded. Exits 1 for an unknown zone or group, or a log with no
zone.

Options:
  --group G               the statistics of group G's zones
${LOG_OPTION}
${JSON_OPTION}
${HELP_OPTION}

Example:
  chorus stats example.com --log events.sqlite
  chorus stats --group customers --log events.sqlite --json | jq .durations
`;

export const REPORT_HELP = `Usage: chorus report ZONE [options]

Writes the timeline report of ZONE from the event log into a directory:
  report.html                          one self-contained page (inline CSS and SVG, nothing
                                       fetched): processes, steps with durations and wait
                                       formulas, glitches with invariant ids, observer totals
  process-<n>-<kind>-<signer>.svg      one picture per process: a lane for the parent's DS and
                                       NS and one per provider (DNSKEY set versions, keys by tag
                                       and role, coloured by owner), step boundaries, waits
                                       (skipped ones in red), glitches as red markers
  timeline.json                        the model behind both
Prints the path of report.html on stdout, progress on stderr. Exits 1 when the log has no
event for ZONE or cannot be read.

Options:
  --log FILE              the event log (SQLite); default $CHORUS_EVENT_LOG, else the demo's
                          log ($CHORUS_LAB_DIR or ./.lab, then demo/events.sqlite)
  --out DIR               where to write (default: ./chorus-report-<zone>)
  --json                  print the paths and the glitch count as JSON
  -h, --help              show this help

Example:
  chorus report example.test --log .lab/demo/events.sqlite --out /tmp/report
`;

export const KEYGEN_HELP = `Usage: chorus keygen FILE [--json]

Makes an Ed25519 event key: the private key goes to FILE (PKCS #8 PEM, mode 0600, never
overwritten) and the public key (43 base64url characters) is printed. Each sidecar and each
operator has one; the private key never leaves its host. Put an operator's public key in the
trust file every sidecar reads ("trust": { "file": … }); grant a sidecar's with "chorus trust".

Options:
${JSON_OPTION}
${HELP_OPTION}

Example:
  chorus keygen /etc/chorus/bind.key
`;

export const TRUST_HELP = `Usage: chorus trust grant|revoke|show --zone ZONE [options]

Who may write what in ZONE's stream (docs/security.md). "grant" and "revoke" append a
trust-changed event signed with your operator key; every sidecar's fold then accepts (or
refuses) events signed by the keys named. A key rotation is a grant of the new key. "show"
prints the keys trusted now (needs the trust file).

Options:
  --zone ZONE             the zone
  --sidecar ID=KEY        a signer's sidecar key (revoke: --sidecar ID); repeatable
  --operator ID=KEY       an operator's key; repeatable
  --observer ID=KEY       an observer's key; repeatable
  --reason TEXT           why, recorded in the event
${LOG_OPTION}
${JSON_OPTION}
${HELP_OPTION}

Example:
  chorus trust grant --zone example.com --sidecar knot=$(chorus keygen knot.key) --key op.key
`;

export const SERVE_HELP = `Usage: chorus serve --tokens FILE [options]

Runs the control-plane REST API in the foreground over the event log the CLI uses: zones,
their status, events and statistics, processes (request, follow as server-sent events, stop,
undo). Requests are appended exactly as the CLI's commands append them, signed with --key;
the token's name is recorded as who asked. The OpenAPI 3.1 document is at /openapi.json.
A web page at / shows the zones, each signer's keys, the processes in flight with a countdown,
their timelines, statistics and an audit form, with Start, Stop and Undo buttons for operator
tokens; it loads nothing from elsewhere. Stop it with SIGTERM or Ctrl-C.

Options:
  --listen HOST:PORT      where to listen; default 127.0.0.1:8053. Any address outside
                          127.0.0.0/8 (and ::1) needs --tls-cert and --tls-key
  --tokens FILE           the tokens file (chorus token create); default $CHORUS_TOKENS
  --tls-cert FILE         PEM certificate: serve HTTPS
  --tls-key FILE          PEM private key of --tls-cert
${LOG_OPTION}
${HELP_OPTION}

Example:
  chorus serve --log chorus.db --trust trust.json --key op.key --tokens tokens.json
`;

export const TOKEN_HELP = `Usage: chorus token create|list|revoke [NAME] --tokens FILE [options]

The bearer tokens of "chorus serve". "create" prints a new random token once; the file
(mode 0600) keeps only its SHA-256, name, role and date. A viewer may read, an operator may
also request, stop and undo processes, an admin may do everything. "revoke NAME" removes one.

Options:
  --tokens FILE           the tokens file; default $CHORUS_TOKENS
  --name NAME             create: the token's name, recorded as requestedBy in the log
  --role ROLE             create: viewer, operator or admin
${JSON_OPTION}
${HELP_OPTION}

Example:
  chorus token create --tokens tokens.json --name alice --role operator
`;
