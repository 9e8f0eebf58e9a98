package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const defaultPort = "6379"

// ParseURL turns a Redis URL into client options:
//
//	redis[s]://[user[:password]@]host[:port][/db][?param=value&...]
//
// rediss enables TLS (1.2 or later; the server name is taken from each
// address). The port defaults to 6379. Query parameters:
//
//	addr=host:port  another host; may repeat. Several hosts mean Redis Cluster
//	                (the hosts are seeds) unless master_name is given.
//	cluster=true    Redis Cluster even with a single seed host.
//	master_name=M   Sentinel: the hosts are sentinels, M the monitored master.
//	dial_timeout=D  also read_timeout and write_timeout: a duration such
//	                as 500ms, or whole seconds.
//	pool_size=N     connections per node.
//	max_retries=N   retries of a failed command; -1 for none.
//
// Anything else is rejected, as are a database number in cluster mode and
// cluster=true with master_name. Errors never contain the password.
func ParseURL(rawURL string) (*redis.UniversalOptions, error) {
	opts, err := parseURL(rawURL)
	if err != nil && atSignAfterAuthority(rawURL) {
		// Parts of the password may have been parsed as path or query, and
		// would be quoted by err.
		return nil, errors.New("redisstore: malformed Redis URL: percent-encode special characters such as / ? # in the user name and password")
	}
	return opts, err
}

// atSignAfterAuthority reports whether rawURL has an '@' after its
// authority: the sign of a user name or password with an unescaped '/', '?'
// or '#', which ends the authority early.
func atSignAfterAuthority(rawURL string) bool {
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return strings.Contains(rawURL, "@")
	}
	i := strings.IndexAny(rest, "/?#")
	return i >= 0 && strings.Contains(rest[i:], "@")
}

func parseURL(rawURL string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: malformed Redis URL: %w", parseErrorDetail(err))
	}
	switch {
	case u.Scheme != "redis" && u.Scheme != "rediss":
		return nil, fmt.Errorf("redisstore: Redis URL scheme %q: want redis or rediss", u.Scheme)
	case u.Opaque != "" || u.Host == "":
		return nil, errors.New("redisstore: Redis URL has no host: want redis://host:port")
	case u.Fragment != "" || u.RawFragment != "":
		return nil, errors.New("redisstore: Redis URL must not have a #fragment")
	}

	opts := &redis.UniversalOptions{}
	if u.Scheme == "rediss" {
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if u.User != nil {
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	addr, err := hostPort(u.Hostname(), u.Port())
	if err != nil {
		return nil, err
	}
	opts.Addrs = []string{addr}

	dbGiven := false
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("redisstore: Redis URL path %q: want /<database number>", u.Path)
		}
		opts.DB, dbGiven = db, true
	}

	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("redisstore: malformed Redis URL query: %w", err)
	}
	cluster, clusterGiven := false, false
	for name, values := range query {
		if name == "addr" {
			for _, v := range values {
				host, port, err := net.SplitHostPort(v)
				if err != nil {
					return nil, fmt.Errorf("redisstore: Redis URL parameter addr=%q: want host:port", v)
				}
				addr, err := hostPort(host, port)
				if err != nil {
					return nil, err
				}
				opts.Addrs = append(opts.Addrs, addr)
			}
			continue
		}
		if len(values) != 1 {
			return nil, fmt.Errorf("redisstore: Redis URL parameter %q given %d times", name, len(values))
		}
		v := values[0]
		switch name {
		case "cluster":
			cluster, err = strconv.ParseBool(v)
			clusterGiven = true
		case "master_name":
			opts.MasterName = v
			if v == "" {
				err = errors.New("empty")
			}
		case "dial_timeout":
			opts.DialTimeout, err = parseTimeout(v)
		case "read_timeout":
			opts.ReadTimeout, err = parseTimeout(v)
		case "write_timeout":
			opts.WriteTimeout, err = parseTimeout(v)
		case "pool_size":
			opts.PoolSize, err = strconv.Atoi(v)
			if err == nil && opts.PoolSize < 1 {
				err = errors.New("must be at least 1")
			}
		case "max_retries":
			opts.MaxRetries, err = strconv.Atoi(v)
			if err == nil && opts.MaxRetries < -1 {
				err = errors.New("must be -1 or more")
			}
		default:
			return nil, fmt.Errorf("redisstore: unknown Redis URL parameter %q", name)
		}
		if err != nil {
			return nil, fmt.Errorf("redisstore: Redis URL parameter %s=%q: %w", name, v, err)
		}
	}

	switch {
	case opts.MasterName != "":
		if cluster {
			return nil, errors.New("redisstore: Redis URL: cluster=true and master_name (Sentinel) are exclusive")
		}
	case clusterGiven && !cluster && len(opts.Addrs) > 1:
		return nil, errors.New("redisstore: Redis URL: cluster=false with several hosts")
	case cluster || len(opts.Addrs) > 1:
		if dbGiven {
			return nil, errors.New("redisstore: Redis URL: Redis Cluster has no database numbers; remove the /db path")
		}
		opts.IsClusterMode = true
	}
	return opts, nil
}

// hostPort validates an address and applies the default port.
func hostPort(host, port string) (string, error) {
	if host == "" {
		return "", errors.New("redisstore: Redis URL has an empty host")
	}
	if port == "" {
		port = defaultPort
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("redisstore: Redis URL port %q: want 1-65535", port)
	}
	addr := net.JoinHostPort(host, port)
	// url.Parse lets through hosts such as "]" that no dialer can split.
	if h, _, err := net.SplitHostPort(addr); err != nil || h != host {
		return "", fmt.Errorf("redisstore: Redis URL host %q is invalid", host)
	}
	return addr, nil
}

// parseTimeout accepts a Go duration or, like go-redis URLs, whole seconds.
func parseTimeout(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, errors.New(`want a duration such as "500ms"`)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

// parseErrorDetail returns the reason of a url.Parse error without the URL
// that url.Error quotes, password included.
func parseErrorDetail(err error) error {
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return err
	}
	var eerr url.EscapeError
	if errors.As(uerr.Err, &eerr) {
		// The bad escape may be part of the password.
		return errors.New("invalid percent-encoding")
	}
	return uerr.Err
}
