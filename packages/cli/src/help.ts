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
  query        ask one DNS question (a small dig) and show whether the answer is validated
  demo         bring the lab up and show a validated answer

Run "chorus <command> --help" for the options of a command.
Errors exit with 1, command-line mistakes with 2. Set CHORUS_DEBUG=1 to see stack traces.
`;

export const LAB_HELP = `Usage: chorus lab <up|status|restart|down> [options]

  up       start the lab (see "chorus lab up --help")
  status   show what runs where (see "chorus lab status --help")
  restart  restart servers, keeping their data (see "chorus lab restart --help")
  down     stop it (see "chorus lab down --help")
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
With --traps, also four deliberately misconfigured signers (role "trap"):
  bind-inline-signing        BIND with inline-signing yes                  <prefix>.12
  powerdns-no-direct-dnskey  PowerDNS with direct-dnskey=no                <prefix>.13
  knot-full-management       Knot with dnskey-management: full             <prefix>.14
  knot-zonefile-revert       Knot with zonefile-sync: -1 (restart reverts) <prefix>.15
Each signer and trap serves every zone with its own keys and publishes its own CDS/CDNSKEY;
only BIND's zones are delegated with a DS, and nothing is delegated to a trap.
broken.test. is delegated with a wrong DS as a negative control (SERVFAIL).
Refuses to start over a running lab or where something already answers DNS.
Progress goes to stderr; the status to stdout.

Options:
${DIRECTORY_OPTION}
  --address-prefix P      first three octets of the addresses (default: 127.53.0)
  --port N                DNS port of every server (default: 53; other ports need
                          stub zones, see the status' "delegation" note)
  --ttl S                 TTL of every record, in seconds (default: 30)
  --zones A,B             zones under test. (default: example.test)
  --traps                 also start the four trap signers (default: off)
  --json                  print the status as JSON (schemaVersion 1)
  -h, --help              show this help

Example:
  chorus lab up --zones example.test,shop.test --ttl 10
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
endpoint answers, records the new PIDs in the state file and prints the status. A server that
had died is started again. Resolvers are not restarted.

Arguments:
  SERVER                  parent, bind, powerdns, knot, or a trap started with "up --traps"
                          (bind-inline-signing, powerdns-no-direct-dnskey, knot-full-management,
                          knot-zonefile-revert); default: every server of the lab

Options:
${DIRECTORY_OPTION}
  --json                  print the status as JSON (schemaVersion 1)
  -h, --help              show this help

Example:
  chorus lab restart bind knot
`;

export const LAB_DOWN_HELP = `Usage: chorus lab down [options]

Stops exactly the processes "lab up" (or "lab restart") recorded (SIGTERM, then SIGKILL after 5 s), each only if
its PID still runs the expected program, and removes the loopback addresses it added. Logs
and configs stay in the directory. Nothing to stop is not an error.

Options:
${DIRECTORY_OPTION}
  -h, --help              show this help

Example:
  chorus lab down --dir /tmp/lab
`;

export const QUERY_HELP = `Usage: chorus query NAME [TYPE] [options]

Asks one question and prints the rcode, the header flags and the RRsets. The DO bit is always
set, so a validating resolver reports AD ("authenticated data") for a validated answer.

Options:
  TYPE                    record type (default: A)
  --server ADDR[:PORT]    ask this server (port default 53)
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

export const DEMO_HELP = `Usage: chorus demo [options]

Brings the lab up (or reuses the one running in the directory), prints its status, then asks
the delegation resolver for www.<first zone> A and shows that the answer is validated (AD).
The lab keeps running afterwards; stop it with "chorus lab down".

Options:
${DIRECTORY_OPTION}
  --address-prefix P      first three octets of the addresses (default: 127.53.0)
  --port N                DNS port (default: 53)
  -h, --help              show this help

Example:
  chorus demo && chorus lab down
`;
