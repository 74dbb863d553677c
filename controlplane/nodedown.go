package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// stopNode stops the node's components and the Pods' processes, and
// removes what they leave on the host: mounts, cgroups, the kubelet's and
// containerd's directories, kube-proxy's iptables rules and the bridge. It
// is safe to call when nothing runs.
func stopNode(dir string, s *state) {
	stop(s.NodePIDs["kwok"])
	for _, name := range slices.Backward(nodeComponents) {
		if name != "containerd" {
			stop(s.NodePIDs[name])
		}
	}
	killCgroup("kubepods")
	killShims()
	stop(s.NodePIDs["containerd"])
	netns, _ := filepath.Glob("/run/netns/cni-*")
	unmountUnder(append(append([]string{runDir, filepath.Join(dir, "containerd")}, hostPaths...), netns...)...)
	removeCgroup("kubepods")
	dropKubeRules()
	exec.Command("ip", "link", "del", bridgeName).Run()
	for _, p := range append(append([]string{runDir}, hostPaths...), netns...) {
		os.RemoveAll(p)
	}
	s.NodePIDs = map[string]int{}
}

// dropKubeRules removes the iptables chains and rules of kube-proxy and
// the kubelet (every name starting KUBE-), keeping the rest.
func dropKubeRules() {
	for _, family := range []string{"iptables", "ip6tables"} {
		saved, err := exec.Command(family + "-save").Output()
		if err != nil {
			continue
		}
		var kept []string
		for line := range strings.SplitSeq(string(saved), "\n") {
			if !strings.Contains(line, "KUBE-") {
				kept = append(kept, line)
			}
		}
		if len(kept) == len(strings.Split(string(saved), "\n")) {
			continue
		}
		restore := exec.Command(family + "-restore")
		restore.Stdin = strings.NewReader(strings.Join(kept, "\n"))
		restore.Run()
	}
}

// cgroupRoots are the mounted cgroup v1 hierarchies.
func cgroupRoots() []string {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	return roots
}

// killCgroup kills every process in the cgroup name and below it.
func killCgroup(name string) {
	for _, root := range cgroupRoots() {
		filepath.WalkDir(filepath.Join(root, name), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(path)
			for f := range strings.FieldsSeq(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			return nil
		})
	}
}

// removeCgroup removes the cgroup name and those below it, deepest first.
func removeCgroup(name string) {
	for _, root := range cgroupRoots() {
		var dirs []string
		filepath.WalkDir(filepath.Join(root, name), func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for _, d := range slices.Backward(dirs) {
			syscall.Rmdir(d)
		}
	}
}

// killShims kills the containerd shims started for our containerd, which
// outlive it.
func killShims() {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), "containerd-shim") || !strings.Contains(string(b), runDir) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			stop(pid)
		}
	}
}

// unmountUnder detaches every mount at or below the given paths, deepest
// first.
func unmountUnder(paths ...string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		point := fields[4]
		for _, p := range paths {
			if point == p || strings.HasPrefix(point, p+"/") {
				points = append(points, point)
			}
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}
