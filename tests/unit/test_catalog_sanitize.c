/* test_catalog_sanitize.c -- catalog_sanitize_html (plugins/catalog/sanitize.c):
 * the allowed subset survives, everything that could run a script does not. */
#include "test.h"

#include "../../plugins/catalog/sanitize.c"

#include <stdlib.h>

/* Sanitise and compare with the expected output. */
#define CHECK_SAN(in, want)                                                                        \
    do {                                                                                           \
        char *out_ = catalog_sanitize_html(in);                                                    \
        CHECK_STR(out_, want);                                                                     \
        free(out_);                                                                                \
    } while (0)

/* What no sanitised output may contain, whatever the input. */
static int looks_dangerous(const char *out)
{
    static const char *const bad[] = {"<script", "<img",    "<svg",    "<iframe",     "<a ",
                                      "<a>",     "onerror", "onload=", "javascript:", "<style",
                                      "<object", "<embed",  "=",       NULL};
    for (int i = 0; bad[i]; i++) {
        /* text may say "onerror" or "javascript:" harmlessly; only markup
         * matters, so look inside tags only */
        const char *p = out;
        while ((p = strchr(p, '<')) != NULL) {
            const char *gt = strchr(p, '>');
            if (!gt)
                return 1; /* an unclosed tag in the output */
            size_t n = (size_t)(gt - p + 1);
            char tagbuf[64];
            if (n >= sizeof tagbuf)
                return 1;
            memcpy(tagbuf, p, n);
            tagbuf[n] = '\0';
            if (strstr(tagbuf, bad[i]) || strchr(tagbuf, ' ') || strchr(tagbuf, '"'))
                return 1;
            p = gt + 1;
        }
    }
    return 0;
}

/* Every tag in out is one of the allowed ones, and they balance. */
static int only_allowed_balanced(const char *out)
{
    static const char *const ok[] = {"p", "ul", "ol", "li", "b", "strong", "i", "em", NULL};
    const char *stack[64];
    int depth = 0;
    for (const char *p = out; (p = strchr(p, '<')) != NULL;) {
        const char *gt = strchr(p, '>');
        if (!gt)
            return 0;
        int closing = p[1] == '/';
        char name[16];
        size_t n = (size_t)(gt - p - 1 - closing);
        if (n == 0 || n >= sizeof name)
            return 0;
        memcpy(name, p + 1 + closing, n);
        name[n] = '\0';
        p = gt + 1;
        if (strcmp(name, "br") == 0 && !closing)
            continue;
        int known = 0;
        for (int i = 0; ok[i]; i++)
            if (strcmp(ok[i], name) == 0) {
                known = 1;
                if (closing) {
                    if (depth == 0 || strcmp(stack[depth - 1], ok[i]) != 0)
                        return 0;
                    depth--;
                } else {
                    if (depth == 64)
                        return 0;
                    stack[depth++] = ok[i];
                }
            }
        if (!known)
            return 0;
    }
    return depth == 0;
}

TEST(allowed_tags_kept_without_attributes)
{
    CHECK_SAN("<p>Hello <b>bold</b> and <i>it</i></p>", "<p>Hello <b>bold</b> and <i>it</i></p>");
    CHECK_SAN("<P CLASS=\"x\" onclick=\"alert(1)\">Hi</P>", "<p>Hi</p>");
    CHECK_SAN("<ul><li>one</li><li>two</li></ul>", "<ul><li>one</li><li>two</li></ul>");
    CHECK_SAN("<ol start=3><li>a</ol>", "<ol><li>a</li></ol>");
    CHECK_SAN("a<br>b<br/>c<BR />d</br>e", "a<br>b<br>c<br>d<br>e");
    CHECK_SAN("<strong>s</strong><em>e</em>", "<strong>s</strong><em>e</em>");
    CHECK_SAN("", "");
    CHECK_SAN("plain text", "plain text");
}

TEST(script_and_friends_dropped_with_content)
{
    CHECK_SAN("a<script>alert(1)</script>b", "ab");
    CHECK_SAN("a<SCRIPT type=text/javascript>alert('</p>')</SCRIPT >b", "ab");
    CHECK_SAN("a<style>p{color:red}</style>b", "ab");
    CHECK_SAN("a<iframe src=\"https://evil\">x</iframe>b", "ab");
    CHECK_SAN("a<object data=x><param name=a value=b>fallback</object>b", "ab");
    CHECK_SAN("a<embed src=x.swf>b", "ab");
    CHECK_SAN("a<svg onload=alert(1)><svg><g/></svg>inside</svg>b", "ab");
    CHECK_SAN("a<svg><script>\"</svg>\"</script>still inside</svg>b", "ab");
    /* an unclosed script swallows the rest rather than leaking it */
    CHECK_SAN("safe<script>alert(1)", "safe");
}

TEST(event_handlers_and_links_gone)
{
    CHECK_SAN("<img src=x onerror=alert(1)>", "");
    CHECK_SAN("<img src=\"x\" alt=\">\" onerror=\"alert(1)\">after", "after");
    CHECK_SAN("<a href=\"javascript:alert(1)\">click</a>", "click");
    CHECK_SAN("<a href=javascript:alert(1)>x</a> javascript:void(0)", "x javascript:void(0)");
    CHECK_SAN("<body onload=alert(1)>hi", "hi");
    CHECK_SAN("<div style=\"background:url(javascript:alert(1))\">t</div>", "<p>t</p>");
}

TEST(nested_tricks)
{
    CHECK_SAN("<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)");
    /* the inner <script> opens a raw-text element that the first </script> ends */
    CHECK_SAN("<<script>script>alert(1)<</script>/script>", "&lt;/script&gt;");
    CHECK_SAN("<b><i>x</b>y</i>", "<b><i>x</i></b>y");
    CHECK_SAN("<p>one<p>two", "<p>one</p><p>two</p>");
    CHECK_SAN("<ul><li>a<li>b</ul>", "<ul><li>a</li><li>b</li></ul>");
    CHECK_SAN("<b>unclosed", "<b>unclosed</b>");
    CHECK_SAN("text <b", "text ");
    CHECK_SAN("x <img src=\"never closed", "x ");
    CHECK_SAN("</b>stray end</p>", "stray end");
    CHECK_SAN("a<!-- <script>alert(1)</script> -->b", "ab");
    CHECK_SAN("a<!-- never closed <b>", "a");
    CHECK_SAN("<!DOCTYPE html><?xml version=1?>t", "t");
    CHECK_SAN("a</ script>b", "ab");
}

TEST(text_escaped_and_entities_normalised)
{
    CHECK_SAN("5 < 6 & 7 > 3", "5 &lt; 6 &amp; 7 &gt; 3");
    CHECK_SAN("\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;");
    CHECK_SAN("&lt;script&gt;", "&lt;script&gt;");
    CHECK_SAN("&#60;b&#x3E;", "&lt;b&gt;");
    CHECK_SAN("a&amp;b", "a&amp;b");
    CHECK_SAN("&nbsp;", "\xC2\xA0");
    CHECK_SAN("&mdash;&laquo;&raquo;", "\xE2\x80\x94\xC2\xAB\xC2\xBB");
    CHECK_SAN("&unknown; &amp", "&amp;unknown; &amp;amp");
    CHECK_SAN("&#0;&#xD800;&#x110000;", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_SAN("Чайник <b>электрический</b>", "Чайник <b>электрический</b>");
}

TEST(controls_and_bad_utf8)
{
    CHECK_SAN("a\r\nb\x01"
              "c\td",
              "a\nbc\td");
    CHECK_SAN("bad \xC3 byte \xFF end", "bad \xEF\xBF\xBD byte \xEF\xBF\xBD end");
    CHECK_SAN("overlong \xC0\xAF", "overlong \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(blocks_become_paragraphs_and_empty_elements_vanish)
{
    CHECK_SAN("<div>one</div><div>two</div>", "<p>one</p><p>two</p>");
    CHECK_SAN("<h2>Title</h2>text", "<p>Title</p>text");
    CHECK_SAN("<p></p><p> </p><b></b>x", " x");
    CHECK_SAN("<table><tr><td>a</td><td>b</td></tr></table>", "<p>a b </p>");
    CHECK_SAN("<span style=x>kept</span>", "kept");
}

TEST(depth_is_bounded)
{
    char in[4096] = "", want[4096] = "";
    for (int i = 0; i < 100; i++)
        strcat(in, "<b>");
    strcat(in, "x");
    for (int i = 0; i < SANITIZE_DEPTH_MAX; i++)
        strcat(want, "<b>");
    strcat(want, "x");
    for (int i = 0; i < SANITIZE_DEPTH_MAX; i++)
        strcat(want, "</b>");
    CHECK_SAN(in, want);
}

TEST(hostile_inputs_give_safe_balanced_output)
{
    static const char *const inputs[] = {
        "<img src=x onerror=alert(1)//",
        "<svg/onload=alert(1)>",
        "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<p><b><i><ul><li><em><strong>deep</p></li>",
        "<<<<>>>><<b>>",
        "<b onmouseover=alert(1)>x</b>",
        "<form><button formaction=javascript:alert(1)>x",
        "<textarea></textarea><img src=x onerror=alert(1)>",
        "<p style=\"x:expression(alert(1))\">y",
        "\"><script>alert(1)</script>",
        "<scr\0ipt>alert(1)</script>",
        "<!--><img src=x onerror=alert(1)>-->",
        "<![CDATA[<img src=x onerror=alert(1)>]]>",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        char *out = catalog_sanitize_html(inputs[i]);
        CHECK(out != NULL);
        if (!out)
            continue;
        if (looks_dangerous(out) || !only_allowed_balanced(out))
            fprintf(stderr, "unsafe output for input %zu: %s\n", i, out);
        CHECK(!looks_dangerous(out));
        CHECK(only_allowed_balanced(out));
        free(out);
    }
}

int main(void)
{
    RUN(allowed_tags_kept_without_attributes);
    RUN(script_and_friends_dropped_with_content);
    RUN(event_handlers_and_links_gone);
    RUN(nested_tricks);
    RUN(text_escaped_and_entities_normalised);
    RUN(controls_and_bad_utf8);
    RUN(blocks_become_paragraphs_and_empty_elements_vanish);
    RUN(depth_is_bounded);
    RUN(hostile_inputs_give_safe_balanced_output);
    return test_report();
}
