package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/cardswitch/cardswitch/config"
	"github.com/spf13/cobra"
)

// adminTokenEnv names the token file when --token-file is not given; the
// switch reads the same variable for admin.token_file.
const adminTokenEnv = config.EnvPrefix + "_ADMIN_TOKEN_FILE"

// adminClient is what a command needs to call a switch's admin API.
type adminClient struct {
	addr      string
	tokenFile string
}

// addFlags registers --admin and --token-file on cmd.
func (a *adminClient) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.addr, "admin", defaultAdminAddr, "admin listener of the switch: host:port or http://host:port")
	cmd.Flags().StringVar(&a.tokenFile, "token-file", "",
		"file holding the switch's admin token (its admin.token_file); default $"+adminTokenEnv)
}

// token reads the token file named by --token-file or the environment;
// "" when neither names one.
func (a *adminClient) token() (file, token string, err error) {
	file, from := a.tokenFile, "--token-file"
	if file == "" {
		file, from = os.Getenv(adminTokenEnv), "$"+adminTokenEnv
	}
	if file == "" {
		return "", "", nil
	}
	token, err = config.ReadAdminToken(file)
	if err != nil {
		return file, "", fmt.Errorf("%s %w", from, err)
	}
	return file, token, nil
}

// get GETs path and returns the body of a 200 answer. The errors start
// with "GET URL: " or the client's own "Get ..."; a 401 says how to pass
// the token.
func (a *adminClient) get(ctx context.Context, path string) ([]byte, error) {
	file, token, err := a.token()
	if err != nil {
		return nil, err
	}
	url := adminURL(a.addr) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the answer: %w", url, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && token == "":
		return nil, fmt.Errorf("GET %s: %s: the switch's admin API needs a token: --token-file FILE (or $%s)",
			url, resp.Status, adminTokenEnv)
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("GET %s: %s: the switch refused the token in %q: is it the file of its admin.token_file?",
			url, resp.Status, file)
	case resp.StatusCode != http.StatusOK:
		msg := strings.TrimSpace(string(body))
		if len(msg) > maxErrorBody {
			msg = msg[:maxErrorBody] + "..."
		}
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, msg)
	}
	return body, nil
}

// adminURL accepts a bare host:port, as the config's admin.address is written.
func adminURL(addr string) string {
	if strings.Contains(addr, "://") {
		return strings.TrimRight(addr, "/")
	}
	return "http://" + addr
}
