/*
 * mkseeds_sender - write the seed corpus for fuzz_sender: one file per
 * form of MAIL FROM's argument that envaddr knows.
 * usage: mkseeds_sender DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
    static const char *const seeds[] = {
	"<spammer@evil.example>", "spammer@evil.example", "<>", "",
	"<\"spammer\"@evil.example>", "<\"spa\\\"m mer\"@evil.example>",
	"<@relay.example:spammer@evil.example>",
	"<@a.example,@b.example:spammer@evil.example>",
	"<@a:@b:@c:x@y>", "<SPAMMER@Evil.Example>", "<spammer@evil.example.>",
	"<spammer@[192.0.2.1].>", "<evil.example!spammer>",
	"<spammer%evil.example>", "<spammer(comment (nested))@evil.example>",
	"Name <a@b>", "<a@b,c@d>", "<\"unterminated@x", "<a@[x",
	"<a@mail.shop.co.uk>", "<j\xc3\xbcrgen@b\xc3\xbc" "cher.example>",
    };
    char    path[512];
    FILE   *fp;
    size_t  i;

    if (argc != 2) {
	fprintf(stderr, "usage: mkseeds_sender DIR\n");
	return 2;
    }
    for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
	snprintf(path, sizeof(path), "%s/sender-%02zu", argv[1], i);
	if ((fp = fopen(path, "w")) == 0
	    || fwrite(seeds[i], 1, strlen(seeds[i]), fp) != strlen(seeds[i])
	    || fclose(fp) != 0) {
	    perror(path);
	    exit(1);
	}
    }
    return 0;
}
