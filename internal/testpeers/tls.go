package testpeers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TLSTerminator accepts TLS on 127.0.0.1 and forwards the decrypted bytes
// to a plain TCP port, as the TLS front of an RTMPS ingest does (nginx-rtmp
// has no TLS of its own). Its certificate, for 127.0.0.1 and localhost, is
// signed by a CA made for this test only: a client trusts it only when told
// to (CAFile, e.g. through SSL_CERT_FILE).
type TLSTerminator struct {
	Port   int
	CAFile string // PEM of the test CA, for SSL_CERT_FILE
	// Handshakes counts completed TLS handshakes; Failed counts refused
	// ones (a client that did not trust the certificate, say).
	Handshakes, Failed atomic.Int64

	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

// StartTLSTerminator listens on a free port and forwards every connection,
// once its handshake is done, to 127.0.0.1:targetPort. It is closed when
// the test ends.
func StartTLSTerminator(t testing.TB, targetPort int) *TLSTerminator {
	t.Helper()
	caPEM, cert, err := selfSignedChain()
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	p := &TLSTerminator{Port: l.Addr().(*net.TCPAddr).Port, CAFile: caFile, l: l, target: fmt.Sprintf("127.0.0.1:%d", targetPort)}
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// URL is rtmps://127.0.0.1:PORT/APP/KEY.
func (p *TLSTerminator) URL(app, key string) string {
	return fmt.Sprintf("rtmps://127.0.0.1:%d/%s/%s", p.Port, app, key)
}

// Close stops listening and ends every connection.
func (p *TLSTerminator) Close() {
	p.l.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
}

func (p *TLSTerminator) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.serve(c.(*tls.Conn))
	}
}

func (p *TLSTerminator) serve(c *tls.Conn) {
	// The handshake runs here, not in Accept, so that one slow or
	// distrustful client never holds up the next.
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		p.Failed.Add(1)
		c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	p.Handshakes.Add(1)
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, s)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(c, s); c.Close() }()
	_, _ = io.Copy(s, c)
	s.Close()
}

// selfSignedChain makes a CA and a server certificate for 127.0.0.1 and
// localhost signed by it; it returns the CA as PEM and the server's key
// pair.
func selfSignedChain() (caPEM []byte, cert tls.Certificate, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, cert, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "livecap test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, cert, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, cert, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, cert, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, cert, err
	}
	cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), cert, nil
}
