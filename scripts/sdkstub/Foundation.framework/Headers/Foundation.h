/* livecap SDK stub: only the Foundation declarations livecap uses, written
   after Apple's Foundation headers (NSObjCRuntime.h, NSString.h,
   NSArray.h, NSDictionary.h, NSValue.h, NSError.h). Not Apple's file; on a
   Mac the real SDK is used. The root class NSObject comes from the
   Objective-C runtime headers (objc/NSObject.h). */
#ifndef LIVECAP_STUB_FOUNDATION_H
#define LIVECAP_STUB_FOUNDATION_H

#include <CoreFoundation/CoreFoundation.h>
#import <objc/NSObject.h>
#include <stdarg.h>


#include <os/availability.h>

#define FOUNDATION_EXPORT extern
/* NSObjCRuntime.h / CFAvailability.h: an enum with a fixed underlying type. */
#ifndef NS_ENUM
#define NS_ENUM(_type, _name) enum _name : _type _name; enum _name : _type
#endif
#ifndef NS_FORMAT_FUNCTION
#define NS_FORMAT_FUNCTION(F, A) __attribute__((format(__NSString__, F, A)))
#endif

#pragma clang assume_nonnull begin

@class NSString;

/* NSString.h */
@interface NSString : NSObject
@property(readonly) NSUInteger length;
@property(nullable, readonly) const char *UTF8String;
+ (nullable instancetype)stringWithUTF8String:(const char *)nullTerminatedCString;
+ (instancetype)stringWithFormat:(NSString *)format, ... NS_FORMAT_FUNCTION(1, 2);
- (BOOL)isEqualToString:(NSString *)aString;
@end

/* NSValue.h */
@interface NSValue : NSObject
@end
@interface NSNumber : NSValue
@property(readonly) int intValue;
@property(readonly) NSInteger integerValue;
+ (NSNumber *)numberWithInt:(int)value;
+ (NSNumber *)numberWithBool:(BOOL)value;
@end

/* NSArray.h */
@interface NSArray<__covariant ObjectType> : NSObject
@property(readonly) NSUInteger count;
- (ObjectType)objectAtIndex:(NSUInteger)index;
+ (instancetype)arrayWithObjects:(const ObjectType _Nonnull[_Nonnull])objects count:(NSUInteger)cnt;
@end

/* NSDictionary.h */
@interface NSDictionary<__covariant KeyType, __covariant ObjectType> : NSObject
- (nullable ObjectType)objectForKey:(KeyType)aKey;
- (nullable ObjectType)objectForKeyedSubscript:(KeyType)key;
+ (instancetype)dictionaryWithObjects:(const ObjectType _Nonnull[_Nullable])objects forKeys:(const KeyType _Nonnull[_Nullable])keys count:(NSUInteger)cnt;
@end
@interface NSMutableDictionary<KeyType, ObjectType> : NSDictionary<KeyType, ObjectType>
+ (instancetype)dictionary;
- (void)setObject:(nullable ObjectType)obj forKeyedSubscript:(KeyType)key;
@end

/* NSException.h */
typedef NSString *NSExceptionName;
@interface NSException : NSObject
@property(readonly, copy) NSExceptionName name;
@property(nullable, readonly, copy) NSString *reason;
@end

/* NSOperation.h */
@interface NSOperationQueue : NSObject
@end

/* NSNotification.h */
typedef NSString *NSNotificationName;
@interface NSNotification : NSObject
@property(readonly, copy) NSNotificationName name;
@property(nullable, readonly, retain) id object;
@property(nullable, readonly, copy) NSDictionary *userInfo;
@end
@interface NSNotificationCenter : NSObject
@property(class, readonly, strong) NSNotificationCenter *defaultCenter;
- (void)removeObserver:(id)observer;
- (id<NSObject>)addObserverForName:(nullable NSNotificationName)name object:(nullable id)obj queue:(nullable NSOperationQueue *)queue usingBlock:(void (^)(NSNotification *notification))block API_AVAILABLE(macos(10.6), ios(4.0));
@end

/* NSError.h */
typedef NSString *NSErrorDomain;
@interface NSError : NSObject
@property(readonly, copy) NSErrorDomain domain;
@property(readonly) NSInteger code;
@property(readonly, copy) NSString *localizedDescription;
@end

#pragma clang assume_nonnull end

#endif
