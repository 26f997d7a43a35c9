import Foundation
import XCTest
@testable import Cosync

/// The proto3 JSON forms the runtime writes, as Go's protojson does.
final class WellKnownTests: XCTestCase {
    func testTimestamp() throws {
        let cases: [(String, Int64, Int32, String)] = [
            ("1970-01-01T00:00:00Z", 0, 0, "1970-01-01T00:00:00Z"),
            ("2026-01-02T03:04:05.123456789Z", 1_767_323_045, 123_456_789, "2026-01-02T03:04:05.123456789Z"),
            ("2026-01-02T03:04:05.5Z", 1_767_323_045, 500_000_000, "2026-01-02T03:04:05.500Z"),
            ("2026-01-02T04:04:05.000120+01:00", 1_767_323_045, 120_000, "2026-01-02T03:04:05.000120Z"),
            ("1969-12-31T23:59:59Z", -1, 0, "1969-12-31T23:59:59Z"),
        ]
        for (text, seconds, nanos, written) in cases {
            let t = ProtoTimestamp(rfc3339: text)
            XCTAssertEqual(t, ProtoTimestamp(seconds: seconds, nanos: nanos), text)
            XCTAssertEqual(t?.rfc3339, written, text)
        }
        XCTAssertNil(ProtoTimestamp(rfc3339: "2026-01-02 03:04:05Z"))
        XCTAssertNil(ProtoTimestamp(rfc3339: "2026-13-02T03:04:05Z"))
    }

    func testDuration() throws {
        let cases: [(String, Int64, Int32, String)] = [
            ("3600s", 3600, 0, "3600s"),
            ("1.5s", 1, 500_000_000, "1.500s"),
            ("-0.000000001s", 0, -1, "-0.000000001s"),
        ]
        for (text, seconds, nanos, written) in cases {
            let d = ProtoDuration(jsonString: text)
            XCTAssertEqual(d, ProtoDuration(seconds: seconds, nanos: nanos), text)
            XCTAssertEqual(d?.jsonString, written, text)
        }
        XCTAssertNil(ProtoDuration(jsonString: "3600"))
    }

    func testFieldMask() throws {
        let mask: ProtoFieldMask = ["settings.signup_flow", "name"]
        let json = try JSONEncoder().encode(ProtoJSONBox(mask))
        XCTAssertEqual(String(decoding: json, as: UTF8.self), #""settings.signupFlow,name""#)
        XCTAssertEqual(try JSONDecoder().decode(ProtoJSONBox<ProtoFieldMask>.self, from: json).value, mask)
    }

    func testInt64AndEnumForms() throws {
        let stats = AdminV1.DailyStats(date: "2026-01-01", signups: 9_007_199_254_740_993)
        let json = try JSONEncoder().encode(stats)
        let obj = try JSONSerialization.jsonObject(with: json) as? [String: Any]
        XCTAssertEqual(obj?["signups"] as? String, "9007199254740993")
        XCTAssertNil(obj?["logins"], "defaults are omitted")
        // Numbers are accepted for 64-bit integers and enums; unknown enum
        // names survive a round trip.
        let user = try AuthV1.User(jsonData: Data(#"{"status":"USER_STATUS_SOMEDAY","twoFactor":2}"#.utf8))
        XCTAssertEqual(user.status, .unrecognized("USER_STATUS_SOMEDAY"))
        XCTAssertEqual(user.twoFactor, .totp)
        let back = try JSONSerialization.jsonObject(with: try user.jsonData()) as? [String: Any]
        XCTAssertEqual(back?["status"] as? String, "USER_STATUS_SOMEDAY")
        XCTAssertEqual(back?["twoFactor"] as? String, "TWO_FACTOR_METHOD_TOTP")
    }

    func testConnectErrorReadsDetails() {
        // ErrorInfo{reason: "CODE_EXPIRED", domain: "cosync.auth", metadata: {"a": "b"}}.
        var info = Data([0x0A, 0x0C]) + Data("CODE_EXPIRED".utf8)
        info += Data([0x12, 0x0B]) + Data("cosync.auth".utf8)
        info += Data([0x1A, 0x06, 0x0A, 0x01, 0x61, 0x12, 0x01, 0x62])
        let value = info.base64EncodedString().replacingOccurrences(of: "=", with: "")
        let body = #"{"code":"invalid_argument","message":"code expired","details":[{"type":"google.rpc.ErrorInfo","value":"\#(value)"}]}"#
        let e = ConnectError(httpStatus: 400, body: Data(body.utf8))
        XCTAssertEqual(e.code, .invalidArgument)
        XCTAssertEqual(e.message, "code expired")
        XCTAssertEqual(e.reason, "CODE_EXPIRED")
        XCTAssertEqual(e.errorReason, .codeExpired)
        XCTAssertEqual(e.metadata, ["a": "b"])

        let plain = ConnectError(httpStatus: 503, body: Data("upstream down".utf8))
        XCTAssertEqual(plain.code, .unavailable)
        XCTAssertNil(plain.reason)
    }
}
