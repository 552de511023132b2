#!/usr/bin/env bash
# Writes the seccomp profile of function containers (Docker's JSON profile
# format) to OUT, built from docker/seccomp/allow.txt plus the rules below
# that look at system call arguments. The executor reads OUT once at start
# (executor.seccomp_profile) and sends its content with every container it
# creates; stack.sh writes it to $LAMBDA_VAR/run/seccomp.json.
#
# Usage: scripts/seccomp.sh OUT      (OUT "-": standard output)
#
# Denied, with the errno the function sees (docs/design.md, "Seccomp"):
#   anything not allowed         EPERM  (ptrace, process_vm_readv/writev,
#                                        io_uring_*, unshare, setns, mount,
#                                        bpf, kernel modules, ...)
#   clone with a CLONE_NEW* flag EPERM  (no new namespace, user ones included)
#   clone3                       ENOSYS (glibc and Node fall back to clone,
#                                        whose flags a filter can inspect;
#                                        clone3 passes them in memory)
# runsc applies the profile only with --oci-seccomp (the runtime
# runsc-lambda that scripts/deps.sh registers), and this runsc returns EPERM
# for every SCMP_ACT_ERRNO whatever its errnoRet: hence EPERM everywhere,
# and clone3's ENOSYS comes from SCMP_ACT_TRACE without a tracer.
#   socket(AF_VSOCK)             EPERM
set -euo pipefail

[[ $# -eq 1 ]] || {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
OUT=$1
ALLOW="$(cd "$(dirname "$0")/.." && pwd -P)/docker/seccomp/allow.txt"
command -v jq >/dev/null || {
	echo "seccomp.sh: jq is missing (scripts/deps.sh installs it)" >&2
	exit 1
}

# CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (Docker's mask)
CLONE_NS_FLAGS=$((0x7E020000))
AF_VSOCK=40
ENOSYS=38
EPERM=1

profile() {
	sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$ALLOW" | sort -u |
		jq -R . | jq -s -S \
			--argjson ns "$CLONE_NS_FLAGS" --argjson vsock "$AF_VSOCK" \
			--argjson enosys "$ENOSYS" --argjson eperm "$EPERM" '
		def allow_if(name; i; op; v): {names: [name], action: "SCMP_ACT_ALLOW",
			args: [{index: i, value: v, valueTwo: 0, op: op}]};
		{
		  defaultAction: "SCMP_ACT_ERRNO",
		  defaultErrnoRet: $eperm,
		  archMap: [
		    {architecture: "SCMP_ARCH_X86_64",
		     subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
		    {architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"]}
		  ],
		  syscalls: [
		    {names: ., action: "SCMP_ACT_ALLOW"},
		    # x86 and arm order: flags are the first argument
		    {names: ["clone"], action: "SCMP_ACT_ALLOW",
		     args: [{index: 0, value: $ns, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ"}]},
		    # ENOSYS through TRACE: with no tracer the kernel (and gVisor)
		    # fails the call with ENOSYS, and ptrace is denied to anyone
		    # who could trace. runsc before 2025 ignores errnoRet (every
		    # SCMP_ACT_ERRNO is EPERM there), so ERRNO 38 would break
		    # pthread_create under gVisor. errnoRet is what runc hands a
		    # tracer; kept for the reader.
		    {names: ["clone3"], action: "SCMP_ACT_TRACE", errnoRet: $enosys},
		    allow_if("socket"; 0; "SCMP_CMP_NE"; $vsock),
		    # the personalities glibc and emulators ask for: PER_LINUX,
		    # UNAME26, ADDR_NO_RANDOMIZE (and with UNAME26), query
		    (0, 8, 131072, 131080, 4294967295 | allow_if("personality"; 0; "SCMP_CMP_EQ"; .)),
		    # named for the reader; the default denies them too
		    {names: ["io_uring_enter", "io_uring_register", "io_uring_setup",
		             "process_vm_readv", "process_vm_writev", "ptrace"],
		     action: "SCMP_ACT_ERRNO", errnoRet: $eperm}
		  ]
		}'
}

if [[ $OUT == - ]]; then
	profile
	exit 0
fi
tmp=$(mktemp "$OUT.XXXXXX")
trap 'rm -f "$tmp"' EXIT
profile >"$tmp"
chmod 0644 "$tmp"
if cmp -s "$tmp" "$OUT" 2>/dev/null; then
	exit 0
fi
mv -f "$tmp" "$OUT"
