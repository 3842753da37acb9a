package posts

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/fasttrack-go/fasttrack/api"
)

// PostIncludes are the relations of a post that a request asks for.
type PostIncludes struct {
	Author, Comments, Tags bool
}

// UserIncludes are the relations of a user that a request asks for: Posts,
// and for each post, the relations of Post.
type UserIncludes struct {
	Posts bool
	Post  PostIncludes
}

// Names of the include parameter, of GET /posts/:id and of GET /users/:id.
const (
	includeAuthor       = "author"
	includeComments     = "comments"
	includeTags         = "tags"
	includePosts        = "posts"
	includePostsTags    = "posts.tags"
	includePostsComms   = "posts.comments"
	includePostsAuthors = "posts.author"
)

// includeNames splits the values of the include parameter (which may be
// repeated) at commas, trims each name and drops empty ones. Each name must
// be one of known, else the answer is 400 naming it.
func includeNames(values []string, known ...string) ([]string, error) {
	var out []string
	for _, v := range values {
		for n := range strings.SplitSeq(v, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			found := false
			for _, k := range known {
				found = found || n == k
			}
			if !found {
				return nil, &api.Error{Status: http.StatusBadRequest, Detail: fmt.Sprintf("unknown include %q", n),
					Fields: []api.FieldError{{Field: "include", Message: fmt.Sprintf("%q is not one of %s", n, strings.Join(known, ", "))}}}
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// parsePostIncludes reads the include values of GET /posts/:id: author,
// comments, tags.
func parsePostIncludes(values []string) (PostIncludes, error) {
	names, err := includeNames(values, includeAuthor, includeComments, includeTags)
	var inc PostIncludes
	for _, n := range names {
		switch n {
		case includeAuthor:
			inc.Author = true
		case includeComments:
			inc.Comments = true
		case includeTags:
			inc.Tags = true
		}
	}
	return inc, err
}

// parseUserIncludes reads the include values of GET /users/:id: posts,
// posts.tags, posts.comments, posts.author. A posts.* name loads the posts
// too.
func parseUserIncludes(values []string) (UserIncludes, error) {
	names, err := includeNames(values, includePosts, includePostsTags, includePostsComms, includePostsAuthors)
	var inc UserIncludes
	for _, n := range names {
		inc.Posts = true
		switch n {
		case includePostsTags:
			inc.Post.Tags = true
		case includePostsComms:
			inc.Post.Comments = true
		case includePostsAuthors:
			inc.Post.Author = true
		}
	}
	return inc, err
}
