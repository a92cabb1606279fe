// The one C++ file: libphonenumber behind phone.h. Every call is wrapped so
// that no exception crosses into C (std::bad_alloc included).
#include "flow/phone.h"

#include <cstdio>
#include <cstring>
#include <string>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

const char *type_name(PhoneNumberUtil::PhoneNumberType t)
{
	switch (t) {
	case PhoneNumberUtil::FIXED_LINE: return "FIXED_LINE";
	case PhoneNumberUtil::MOBILE: return "MOBILE";
	case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return "FIXED_LINE_OR_MOBILE";
	case PhoneNumberUtil::TOLL_FREE: return "TOLL_FREE";
	case PhoneNumberUtil::PREMIUM_RATE: return "PREMIUM_RATE";
	case PhoneNumberUtil::SHARED_COST: return "SHARED_COST";
	case PhoneNumberUtil::VOIP: return "VOIP";
	case PhoneNumberUtil::PERSONAL_NUMBER: return "PERSONAL_NUMBER";
	case PhoneNumberUtil::PAGER: return "PAGER";
	case PhoneNumberUtil::UAN: return "UAN";
	case PhoneNumberUtil::VOICEMAIL: return "VOICEMAIL";
	default: return "UNKNOWN";
	}
}

bw_phone_status from_error(PhoneNumberUtil::ErrorType e)
{
	switch (e) {
	case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return BW_PHONE_NO_COUNTRY;
	case PhoneNumberUtil::NOT_A_NUMBER: return BW_PHONE_NOT_A_NUMBER;
	case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
	case PhoneNumberUtil::TOO_SHORT_NSN: return BW_PHONE_TOO_SHORT;
	case PhoneNumberUtil::TOO_LONG_NSN: return BW_PHONE_TOO_LONG;
	default: return BW_PHONE_NOT_A_NUMBER;
	}
}

bool region_known(const PhoneNumberUtil *u, const char *region)
{
	if (!region || std::strlen(region) != 2)
		return false;
	return u->GetCountryCodeForRegion(region) != 0;
}

} // namespace

extern "C" enum bw_phone_status bw_phone_parse(const char *text, const char *region,
                                                struct bw_phone *out)
{
	std::memset(out, 0, sizeof(*out));
	out->type = "UNKNOWN";
	try {
		const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
		// "ZZ" is libphonenumber's unknown region: only +CC numbers parse.
		std::string reg = region_known(u, region) ? region : "ZZ";
		PhoneNumber n;
		PhoneNumberUtil::ErrorType e = u->Parse(text, reg, &n);
		if (e != PhoneNumberUtil::NO_PARSING_ERROR)
			return from_error(e);
		// A successful parse is not a valid number ("12" parses).
		if (!u->IsValidNumber(n))
			return BW_PHONE_INVALID;
		std::string f;
		u->Format(n, PhoneNumberUtil::E164, &f);
		if (f.size() < 2 || f.size() > BW_PHONE_E164_MAX || f[0] != '+')
			return BW_PHONE_INVALID;
		std::memcpy(out->e164, f.data(), f.size());
		out->e164[f.size()] = '\0';
		out->type = type_name(u->GetNumberType(n));
		return BW_PHONE_VALID;
	} catch (...) {
		std::memset(out->e164, 0, sizeof(out->e164));
		return BW_PHONE_ERROR;
	}
}

extern "C" bool bw_phone_region_known(const char *region)
{
	try {
		return region_known(PhoneNumberUtil::GetInstance(), region);
	} catch (...) {
		return false;
	}
}
