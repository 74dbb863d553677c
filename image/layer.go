package main

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"os"
	"time"
)

// capNetBindService is the value of the security.capability extended
// attribute that `setcap cap_net_bind_service=+ep` writes: struct
// vfs_cap_data revision 2 with the effective flag, CAP_NET_BIND_SERVICE
// (bit 10) permitted, nothing inheritable. With it a process running as a
// non-root user with NET_BIND_SERVICE in its bounding set binds :53.
func capNetBindService() string {
	const (
		revision2 = 0x02000000
		effective = 0x000001
		netBind   = 1 << 10
	)
	var b [20]byte
	binary.LittleEndian.PutUint32(b[0:], revision2|effective)
	binary.LittleEndian.PutUint32(b[4:], netBind) // permitted, low word
	return string(b[:])
}

// file is one entry of the image's only layer.
type file struct {
	name string // without a leading slash; directories end in "/"
	mode int64
	data []byte
	caps bool // give the file cap_net_bind_service=+ep
}

// passwd and group name the image's non-root user, as the official image's
// base does.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n" // #nosec G101 -- account entries, no password
	group  = "root:x:0:\nnonroot:x:65532:\n"
)

// layerFiles lists the layer's entries in order: the binary at name (a
// file in the root directory), the CA bundle, and the user and group files.
func layerFiles(binary, name, caBundle string) ([]file, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(caBundle)
	if err != nil {
		return nil, err
	}
	return []file{
		{name: name, mode: 0o755, data: bin, caps: true},
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700},
		{name: "tmp/", mode: 0o1777},
	}, nil
}

// layerTar writes files as an uncompressed tar, owned by root (the home
// directory by nonroot), every time set to mtime, in PAX format so that
// extended attributes survive.
func layerTar(files []file, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Name:     f.name,
			Mode:     f.mode,
			ModTime:  mtime,
			Typeflag: tar.TypeReg,
			Size:     int64(len(f.data)),
			Format:   tar.FormatPAX,
		}
		if f.name[len(f.name)-1] == '/' {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if f.name == "home/nonroot/" {
			h.Uid, h.Gid = 65532, 65532
		}
		if f.caps {
			h.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": capNetBindService()}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
