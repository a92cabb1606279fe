/* A small list of the most common passwords long enough to pass a length
 * rule (from public breach corpora). Compared without regard to case. */
#include <string.h>
#include <strings.h>

#include "sec/password.h"

static const char *const common[] = {
	"password", "password1", "password12", "password123", "password1234", "password12345",
	"password123!", "passwordpassword", "p@ssw0rd", "p@ssw0rd123", "p@ssw0rd1234", "passw0rd",
	"passw0rd1234", "123456789", "1234567890", "12345678910", "123456789012", "1234567890123",
	"123123123123", "123456123456", "12341234", "1234512345", "11111111", "111111111111",
	"000000000000", "qwerty123", "qwerty123456", "qwertyuiop", "qwertyuiop12", "qwertyqwerty",
	"1q2w3e4r", "1q2w3e4r5t", "1q2w3e4r5t6y", "1qaz2wsx", "1qaz2wsx3edc", "zaq12wsx",
	"asdfghjkl", "asdfghjkl123", "zxcvbnm123", "zxcvbnm12345", "iloveyou", "iloveyou1234",
	"welcome1", "welcome123", "welcome12345", "letmein123", "letmein12345", "changeme",
	"changeme123", "changeme1234", "admin123", "admin12345", "adminadmin", "adminadmin12",
	"administrator", "administrator1", "trustno1", "trustno1trustno1", "football",
	"football1234", "baseball", "baseball1234", "superman", "superman1234", "sunshine",
	"sunshine1234", "princess", "princess1234", "dragon123456", "monkey123456", "master123456",
	"starwars", "starwars1234", "whatever", "whatever1234", "abcdefghijkl", "abcdefgh",
	"abc123456789", "abcd12345678", "secret123456", "computer", "computer1234", "internet",
	"internet1234", "michael12345", "jennifer1234", "shadow123456", "charlie12345",
	"liverpool1234", "chelsea12345", "arsenal12345", "summer2024!!", "winter2024!!",
	"spring2024!!", "autumn2024!!", "welcome@2024", "welcome@2025", "welcome@2026",
	"company12345", "contactcenter", "callcenter123", "helpdesk1234", "support12345",
	NULL,
};

bool bw_password_is_common(const char *pw)
{
	for (const char *const *p = common; *p; p++)
		if (strcasecmp(pw, *p) == 0)
			return true;
	return false;
}
