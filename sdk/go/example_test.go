package cosync_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	cosync "github.com/cosync/cosync-auth/sdk/go"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// An app signs its user in once; the Client keeps the session, sends its
// token, and refreshes it before it expires.
func ExampleNewClient() {
	ctx := context.Background()
	c := cosync.NewClient(baseURL, appID) // e.g. "https://auth.example.com"
	if _, err := c.Auth.Login(ctx, &authv1.LoginRequest{Handle: "ann@example.com", Password: "correct horse"}); err != nil {
		log.Fatal(err)
	}
	res, err := c.Auth.GetUser(ctx, &authv1.GetUserRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.GetUser().GetEmail(), res.GetUser().GetMetadata().AsMap())
	// Output: ann@example.com map[user_data:map[name:Ann]]
}

// Errors carry a machine reason; branch on it, never on the message.
func ExampleReasonOf() {
	c := cosync.NewClient(baseURL, appID)
	_, err := c.Auth.Login(context.Background(), &authv1.LoginRequest{Handle: "nobody@example.com", Password: "guess"})
	switch cosync.ReasonOf(err) {
	case authv1.ErrorReason_ERROR_REASON_INVALID_CREDENTIALS:
		fmt.Println("wrong email or password")
	case authv1.ErrorReason_ERROR_REASON_RATE_LIMITED:
		fmt.Println("too many tries; wait")
	default:
		fmt.Println(err)
	}
	// Output: wrong email or password
}

// A backend verifies the access tokens the app sends it.
func ExampleVerifier() {
	ctx := context.Background()
	v, err := cosync.NewVerifier(baseURL, appID, cosync.WithAudience("my-atlas-app-id"))
	if err != nil {
		log.Fatal(err)
	}
	claims, err := v.Verify(ctx, annToken())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Email, claims.Metadata["user_data"])

	_, err = v.Verify(ctx, "not.a.token")
	fmt.Println(errors.Is(err, cosync.ErrInvalidToken))
	// Output:
	// ann@example.com map[name:Ann]
	// true
}

// Middleware guards a net/http handler and hands it the verified claims.
func ExampleVerifier_Middleware() {
	v, err := cosync.NewVerifier(baseURL, appID, cosync.WithAudience("my-atlas-app-id"))
	if err != nil {
		log.Fatal(err)
	}
	notes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := cosync.ClaimsFromContext(r.Context())
		fmt.Fprintln(w, "notes of", claims.Email)
	})
	backend := httptest.NewServer(v.Middleware(notes))
	defer backend.Close()

	for _, token := range []string{annToken(), "forged"} {
		req, _ := http.NewRequest(http.MethodGet, backend.URL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("%d %s", res.StatusCode, body)
	}
	// Output:
	// 200 notes of ann@example.com
	// 401 the token is not valid
}

// annToken signs Ann in and returns her access token, as an app would
// send it to its backend.
func annToken() string {
	c := cosync.NewClient(baseURL, appID)
	if _, err := c.Auth.Login(context.Background(), &authv1.LoginRequest{Handle: annEmail, Password: annPassword}); err != nil {
		log.Fatal(err)
	}
	token, err := c.AccessToken(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	return token
}
