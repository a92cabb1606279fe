/* Fixed test vectors for the Encryption SDK code (tests/unit/test_esdk.c,
 * tests/fuzz/fuzz_esdk.c). The key below is a throwaway generated for these
 * tests and protects nothing. The messages were made by the real
 * @aws-crypto/client-node 5.0.2 (RawRsaKeyringNode, key namespace
 * "Bulwark", key name "js-key", oaepHash sha512, suite 0x0478, context
 * instance_id=in_js, contact_id=ct_js, attribute=card) to its public half. */
#ifndef BW_TEST_ESDK_VECTORS_H
#define BW_TEST_ESDK_VECTORS_H

static const char esdk_test_private_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEuwIBADANBgkqhkiG9w0BAQEFAASCBKUwggShAgEAAoIBAQCwLrSyOLLJNANZ\n"
	"5bFvbaUeIphOE6dn4Oj5WkbGG/Bfhj8G6TWxobrUa5/rzlLmZK2fFAPmCR7LfaZk\n"
	"abbSum6b7PInu3BMEi5wDsxyfKZXv7FUvRTV8cqYzoZ1Myz8ikdcYOypcsxCO9Ch\n"
	"1mPdPZ6YslNsYHoab7wQjJEV9zdaMdggWshhfYgNsvy7QohWBwI9i485TcEdAHKY\n"
	"VJn+G781wcq5kl11wFqZONxnnT0FrkdzgQVE8mfS9CEP1ibiCKeCxf/w4BqioR4v\n"
	"AMCy24Na1+wEFRecham98yJRhO/uH01q5ZHdz64bXH6rhFAcQ0JUJQH6Ujf/P0s6\n"
	"yVkkkjrfAgMBAAECgf8y7U1ONxV3E5HkaoDftNIF4/oil4vMezbc3TuYCHtzIVsW\n"
	"pFLhBd77iCCyCPHtpyyIz0BRPlGogKmYXPZ782gFqnhVA9lyI89IlP6EGYP72W1p\n"
	"ET70mO/3O7uiJSjb1xzJlzrRwF1Kx/+GyHIVgbpWaTW0Hi8tdR7nqbpGny9g4ozP\n"
	"TtdLZ1S1fmMFF+RAn5A+QtOdi+lAOWuRSGaFx5mkA9icBPvFSTRdo4XmiHAPmM+M\n"
	"IpckhqoHfUU8oYJK26tXLR/MYIBFPnXRYKL2Bezq/sUeM5TQ62yZoB2I2JVwT1Yq\n"
	"QRWPoOVA5XvRRH5ENQEDiaCXX2hBdsF7RsbpInECgYEA1QWybsXZ4nG/dGGdlT4N\n"
	"MuuCTBFjwoSnuXOQSgtKB8Rncyov+ouf3SiTyHTKDmUar7O05kk0cDGuC359us6y\n"
	"lsf6mtVFqahyB4Cd8ux+2qr+F3aT03lLty6+u+p2bO571sBg+EqcjOb34xCe+R8K\n"
	"nqwYslsWvs+pSuRxnrL4Ln0CgYEA07pIsXgyx9BzM4vgEQhbT8hD1OFvF4MfDOQQ\n"
	"h/kdZmvD5rJxoekx34J78vKhlFtEeB1j3EroJiQzwAdO7FdBcOhNPyQ/dagJ91UA\n"
	"XeasnoMnBJf7YzZACPpGrn9oDGRUrF/TThscyyBbI4OKUa6wyPJIXQOOgWPscrAt\n"
	"UgM0gYsCgYBdcwhZy/XPfvLsTT5iEDyeD+6zDBXlaWhi1K2Brf4l9iUjwmgV01ao\n"
	"IHrkP0e8lOHmHkHHnGmipkihxjXF05NIziXD8reCu+B6JhQkU1c6+jRJer1S0i1D\n"
	"CQCnUy3sj5pIFVD021ZeAZzRQaNbyiBQh1K2O3t47YRo1Fp7sitpyQKBgGrMkpKC\n"
	"kQrdiN69db7huj2aRS0CsejoSSdVe0k7Tas2PNEHve3wFSorRZ6c6QhOqVD1ckPS\n"
	"vRtQM5JvnU32DZqIcz6gaCpPIwfRpqe3Dee/PFVC3JmE6fQdWr32omNt0JBKnenO\n"
	"H04O+ioF1iWxupcCL6JLgvydjM2lNJcj6r5VAoGBAMyOCYTvMtWfyWhrky1Be/31\n"
	"fnxBbVqslon5RX8wgqfiT3o436FXsRCGMBMd5vC2h20SpzfxTwTE8iZ40Nu4m2Tb\n"
	"aRjCtgxnZYeAs1JJGxHkwGM23C8aCP91srvEKWcvzr6UxygHH4KIcPcLznrfRQXv\n"
	"xmpVG6pAkgCc28L8tWsU\n"
	"-----END PRIVATE KEY-----\n";

/* "4111 1111 1111 1111", frame length 4096: one final frame. */
static const char esdk_js_message_1[] =
	"AgR4MADqXqyjz/o+aASAytN3YGZ9VL2uZ1ur5swoOzwMEn0AOgADAAlhdHRyaWJ1dGUABGNhcmQA"
	"CmNvbnRhY3RfaWQABWN0X2pzAAtpbnN0YW5jZV9pZAAFaW5fanMAAQAHQnVsd2FyawAGanMta2V5"
	"AQAHAEz0rn9Wy6iZlHjbSxALFG67TML2QZrhVNqN08qOE8gLwFjrEectz+IRpWCvhjGfyjuzv6nj"
	"42glVhfAArPth9tWQ+SbsSf+SR5j4fHkSAbd437s7MFE4MJTaiqqMXFhLnVa0HESRBQNfL8kowEn"
	"e2oeu8OZhwUK6C2QFFrCpZBhqqKqw15tXeKo90gHYbXCu6opBBpCLjFLnX0SJ4I2OXD8aQ12+W8H"
	"A195ilwGcvF+ULJINqurVkgkVDop1gjL9mmsBfk/W1h/v+1Lwr0TUhAXrhBS+yh2IiKT3W45Ez+A"
	"7VXx5iqU8qimxVYc9+GcHanBBInJpcs8WEPDYfvRAgAAEAB6nYWdUheTr5vhpPT+nxG9hIu3ypHJ"
	"XLzQ2ozdFPlJoaBA+al/dhsw8+Wyfr07H3D/////AAAAAQAAAAAAAAAAAAAAAQAAABMZkJaC0Lpb"
	"UaS24q5Y0PXz2wzUvpiSTw8F1sPNjpOIqN1BTQ==";
#define ESDK_JS_PLAINTEXT_1 "4111 1111 1111 1111"

/* 100 times "x", frame length 16: six frames, then a final frame of 4 bytes. */
static const char esdk_js_message_2[] =
	"AgR4DkiJE0XTVOIyrwW3JS8ChDyIl4nPF/GKxHYsJENGsyoAOgADAAlhdHRyaWJ1dGUABGNhcmQA"
	"CmNvbnRhY3RfaWQABWN0X2pzAAtpbnN0YW5jZV9pZAAFaW5fanMAAQAHQnVsd2FyawAGanMta2V5"
	"AQCYUDB2ghsN6c17tQqlWG8HHuawVfBTJBcv4w1B9txeeETPpDlPbcEgi1lmnWt7cL9PhM/K62n6"
	"jhECKuFQ3DKb3S9u4uCm63/x/5lTMgmVdFxuGdBI5eoLDF5pPiOT+DAatjNtpt2jq1uO1hNu3S/z"
	"RTV2UVxOwwwzfLPVUvwVUO6eLVj2czbYKpkkJJf3NWT1JTDzXPrp9gv8WAG1UXqJlQnaR7JMwiwC"
	"ySUD6Fz5qqpvpyiqos2SuFdbGfUpPsYVWamPWZj8j6CrNBrzKB6x4th44SygMTQ+MQAZJPMdX5XP"
	"H+W5t3OuxSt9pGMDycMIGZ23AZptn569x9DAYPx2AgAAABBUjSSoVlB9qcm4lxNR22x+tlD/rP5f"
	"ieZbcrhcyBeHfpc4o10Bnm1Xdb0cdnNVKDkAAAABAAAAAAAAAAAAAAABBsh8TAgv+G3/N1cz3Aty"
	"ap5tpuP1V/BRZVFa3pEPZhMAAAACAAAAAAAAAAAAAAACjS1Po+o63KnS5uQTOSPIGY71/i85SJZV"
	"URR2hrJV/CQAAAADAAAAAAAAAAAAAAAD52e65nnMegsWZl8q1QbmzNH6kkkEwBmectFFgPYyiTkA"
	"AAAEAAAAAAAAAAAAAAAEUzqPtYRZw98BIicvEjzSTlVdb+Cg7L7Pbfy0zfeo34IAAAAFAAAAAAAA"
	"AAAAAAAFdKCMOqGf/cEpkS1Y/fj35j0UorR+4la2Mmb1P8F5/QUAAAAGAAAAAAAAAAAAAAAGRqtg"
	"HhGz+jXRFbtKzsBgF2PTcCH2ZkTBFgZ0b1o5Gtj/////AAAABwAAAAAAAAAAAAAABwAAAATadfzZ"
	"7k5VdVDH8WBGhGov/rVZfw==";

#endif
