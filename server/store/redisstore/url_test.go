package redisstore_test

import (
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want redis.UniversalOptions // TLSConfig only checked for presence
		tls  bool
	}{
		{url: "redis://localhost", want: redis.UniversalOptions{Addrs: []string{"localhost:6379"}}},
		{url: "redis://127.0.0.1:7000/3", want: redis.UniversalOptions{Addrs: []string{"127.0.0.1:7000"}, DB: 3}},
		{url: "redis://h:1/", want: redis.UniversalOptions{Addrs: []string{"h:1"}}},
		{url: "redis://[::1]:7000", want: redis.UniversalOptions{Addrs: []string{"[::1]:7000"}}},
		{url: "REDIS://h", want: redis.UniversalOptions{Addrs: []string{"h:6379"}}},
		{
			url:  "redis://user:p%40ss%2Fw@h:1",
			want: redis.UniversalOptions{Addrs: []string{"h:1"}, Username: "user", Password: "p@ss/w"},
		},
		{url: "redis://:secret@h", want: redis.UniversalOptions{Addrs: []string{"h:6379"}, Password: "secret"}},
		{url: "rediss://h:6380", want: redis.UniversalOptions{Addrs: []string{"h:6380"}}, tls: true},
		{
			url:  "redis://a:1?addr=b:2&addr=c:3",
			want: redis.UniversalOptions{Addrs: []string{"a:1", "b:2", "c:3"}, IsClusterMode: true},
		},
		{url: "redis://a:1?cluster=true", want: redis.UniversalOptions{Addrs: []string{"a:1"}, IsClusterMode: true}},
		{url: "redis://a:1?cluster=false", want: redis.UniversalOptions{Addrs: []string{"a:1"}}},
		{
			url:  "redis://u:pw@s1:26379/2?addr=s2:26379&master_name=mymaster",
			want: redis.UniversalOptions{Addrs: []string{"s1:26379", "s2:26379"}, MasterName: "mymaster", DB: 2, Username: "u", Password: "pw"},
		},
		{
			url: "redis://h?dial_timeout=250ms&read_timeout=2&write_timeout=1m&pool_size=7&max_retries=-1",
			want: redis.UniversalOptions{
				Addrs:       []string{"h:6379"},
				DialTimeout: 250 * time.Millisecond, ReadTimeout: 2 * time.Second, WriteTimeout: time.Minute,
				PoolSize: 7, MaxRetries: -1,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			got, err := redisstore.ParseURL(tc.url)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if (got.TLSConfig != nil) != tc.tls {
				t.Errorf("TLSConfig = %v, want TLS %v", got.TLSConfig, tc.tls)
			}
			got.TLSConfig = nil
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("ParseURL =\n%+v\nwant\n%+v", *got, tc.want)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
	}{
		{"", "scheme"},
		{"localhost:6379", "scheme"},
		{"http://h", `scheme "http"`},
		{"unix:///tmp/redis.sock", "scheme"},
		{"redis://", "no host"},
		{"redis:h", "no host"},
		{"redis://:6379", "empty host"},
		{"redis://]", "host"},
		{"redis://h:0", "port"},
		{"redis://h:99999", "port"},
		{"redis://h:x", "malformed"},
		{"redis://h/x", "database"},
		{"redis://h/-1", "database"},
		{"redis://h/1/2", "database"},
		{"redis://h#frag", "fragment"},
		{"redis://h?db=2", `unknown Redis URL parameter "db"`},
		{"redis://h?addr=b", "addr"},
		{"redis://h?addr=:1", "empty host"},
		{"redis://h?cluster=yes", "cluster"},
		{"redis://h?cluster=true&cluster=true", "2 times"},
		{"redis://a?addr=b:1&cluster=false", "cluster=false"},
		{"redis://a/1?addr=b:1", "database"},
		{"redis://a/0?cluster=true", "database"},
		{"redis://a?cluster=true&master_name=m", "exclusive"},
		{"redis://a?master_name=", "master_name"},
		{"redis://a?dial_timeout=soon", "dial_timeout"},
		{"redis://a?read_timeout=-1s", "negative"},
		{"redis://a?pool_size=0", "pool_size"},
		{"redis://a?max_retries=-2", "max_retries"},
		{"redis://a?x=%zz", "query"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			got, err := redisstore.ParseURL(tc.url)
			if err == nil {
				t.Fatalf("ParseURL = %+v, want an error", got)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseURL error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}

// TestParseURLHidesPassword feeds invalid URLs whose password is well
// formed, or so badly escaped that it is parsed as something else.
func TestParseURLHidesPassword(t *testing.T) {
	const pw = "Sup3rSecretPw"
	for _, u := range []string{
		"redis://u:" + pw + "@h:badport",
		"redis://u:" + pw + "@h/x",
		"redis://u:" + pw + "@h?unknown=1",
		"redis://u:" + pw + "@a/1?addr=b:1",
		"redis://u:" + pw + "@h%zz",
		"redis://u:" + pw + "%zz@h",
		"redis://u:Sup3r/SecretPw@h",
		"redis://u:Sup3r/Secret:Pw@h",
		"redis://u:Sup3r?SecretPw@h",
		"redis://u:Sup3r?Secret=Pw@h",
		"redis://u:Sup3r#SecretPw@h",
		"redis://u:Sup3r Secret@h",
		"redis://u:Sup3r:1/SecretPw@h",
		"http://u:" + pw + "@h",
		"redis:u:" + pw + "@h",
	} {
		_, err := redisstore.ParseURL(u)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded, want an error", u)
			continue
		}
		for _, part := range []string{"Sup3r", "Secret", "Pw"} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("ParseURL(%q) error %q reveals part of the password", u, err)
			}
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, seed := range []string{
		"redis://localhost",
		"rediss://user:pass@h:6380/2",
		"redis://a:1?addr=b:2&addr=c:3",
		"redis://a?cluster=true&dial_timeout=1s&pool_size=3",
		"redis://s1:26379?master_name=m&addr=s2:26379",
		"redis://u:p/w@h",
		"redis://[::1]:7000/0?max_retries=-1",
		"redis://h?x=%zz",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		opts, err := redisstore.ParseURL(raw)
		if err != nil {
			if opts != nil {
				t.Fatalf("ParseURL(%q) = %+v with error %v", raw, opts, err)
			}
			checkNoPassword(t, raw)
			return
		}
		if len(opts.Addrs) == 0 {
			t.Fatalf("ParseURL(%q) succeeded without addresses", raw)
		}
		for _, a := range opts.Addrs {
			if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
				t.Fatalf("ParseURL(%q): address %q is not host:port", raw, a)
			}
		}
		if opts.IsClusterMode && (opts.DB != 0 || opts.MasterName != "") {
			t.Fatalf("ParseURL(%q): cluster mode with DB %d, master %q", raw, opts.DB, opts.MasterName)
		}
	})
}

// checkNoPassword fails if ParseURL's error for raw would quote raw's
// password: it swaps the password for a marker that no fixed error text or
// other part of the URL contains, and looks for the marker in the error.
func checkNoPassword(t *testing.T, raw string) {
	const marker = "Zq8vXw3Lm"
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || strings.Contains(raw, marker) {
		return
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" || strings.Count(raw, pw) != 1 {
		return // absent, or percent-encoded, or ambiguous
	}
	swapped := strings.Replace(raw, pw, marker, 1)
	if _, err := redisstore.ParseURL(swapped); err != nil && strings.Contains(err.Error(), marker) {
		t.Fatalf("ParseURL(%q) error %q reveals the password", swapped, err)
	}
}
